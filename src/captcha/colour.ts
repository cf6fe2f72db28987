/**
 * Colour arithmetic for the captcha: WCAG contrast and the colour pairs the renderer draws.
 *
 * Model. A captcha has a background gradient and an ink gradient (glyphs, noise curves,
 * arcs and dots all share the ink, so a reader cannot drop the noise by its colour).
 * Every colour on the ink gradient must keep MIN_TEXT_CONTRAST against every colour on
 * the background gradient. Along a straight line in sRGB, each channel moves linearly
 * and the sRGB-to-linear curve is convex, so relative luminance is convex along the
 * line: its maximum is at an end, its minimum may lie inside. The checks therefore
 * look at every colour actually drawn rather than trusting the end colours.
 */

export type Rgb = readonly [number, number, number];

/** The contrast every glyph keeps against everything behind it (WCAG AA, normal text). */
export const MIN_TEXT_CONTRAST = 4.5;

/** sRGB channel (0-255) to linear light, precomputed: the renderer asks for it often. */
const LINEAR = Float64Array.from({ length: 256 }, (_, channel) => {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** WCAG 2 relative luminance of an sRGB colour with 0-255 integer channels. */
export function relativeLuminance([r, g, b]: Rgb): number {
  return 0.2126 * (LINEAR[r] as number) + 0.7152 * (LINEAR[g] as number) + 0.0722 * (LINEAR[b] as number);
}

function luminanceContrast(a: number, b: number): number {
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/** WCAG 2 contrast ratio, from 1 (same luminance) to 21 (black on white); symmetric. */
export function contrastRatio(a: Rgb, b: Rgb): number {
  return luminanceContrast(relativeLuminance(a), relativeLuminance(b));
}

export function hslToRgb(hueDegrees: number, saturation: number, lightness: number): Rgb {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const h = (((hueDegrees % 360) + 360) % 360) / 60;
  const x = chroma * (1 - Math.abs((h % 2) - 1));
  const [r, g, b] =
    h < 1 ? [chroma, x, 0] : h < 2 ? [x, chroma, 0] : h < 3 ? [0, chroma, x] : h < 4 ? [0, x, chroma] : h < 5 ? [x, 0, chroma] : [chroma, 0, x];
  const m = lightness - chroma / 2;
  return [to255(r + m), to255(g + m), to255(b + m)];
}

/** A 0-1 channel as 0-255. (Module-level rather than a closure: this runs about 36 times a picture.) */
function to255(v: number): number {
  return Math.round(Math.min(1, Math.max(0, v)) * 255);
}

/** The colour a fraction t of the way from `from` to `to`, rounded as an 8-bit image stores it. */
function mix(from: Rgb, to: Rgb, t: number): Rgb {
  return [
    Math.round(from[0] + (to[0] - from[0]) * t),
    Math.round(from[1] + (to[1] - from[1]) * t),
    Math.round(from[2] + (to[2] - from[2]) * t),
  ];
}

/** A two-colour linear gradient. */
export interface Gradient {
  from: Rgb;
  to: Rgb;
}

/** `count` colours evenly along a gradient, both ends included. */
export function gradientColours({ from, to }: Gradient, count: number): Rgb[] {
  return Array.from({ length: count }, (_, i) => mix(from, to, count === 1 ? 0 : i / (count - 1)));
}

/** The worst contrast between any of the `ink` colours and any of the `background` colours. */
export function worstContrast(ink: readonly Rgb[], background: readonly Rgb[]): number {
  const inkLuminances = ink.map(relativeLuminance);
  const backgroundLuminances = background.map(relativeLuminance);
  const inkMin = Math.min(...inkLuminances);
  const inkMax = Math.max(...inkLuminances);
  const backgroundMin = Math.min(...backgroundLuminances);
  const backgroundMax = Math.max(...backgroundLuminances);
  // Valid ink is all darker or all lighter than the background; if the ranges overlap,
  // some ink colour is as light as some background colour.
  if (inkMax < backgroundMin) return luminanceContrast(inkMax, backgroundMin);
  if (inkMin > backgroundMax) return luminanceContrast(inkMin, backgroundMax);
  return 1;
}
