/**
 * Captcha image renderer: answer + options + random source in, PNG out. Pure: no I/O,
 * no clock, no Math.random, so a seeded RandomSource gives byte-identical images.
 *
 * Model. The threat is a reader trained on unlimited labelled samples (the generator is
 * open source), so the design aims at what such a reader finds hard while a person does
 * not: characters that touch and overlap with jittered spacing (no fixed cells to cut
 * at), per-glyph font, size, rotation, stretch, baseline and case, a smooth vertical
 * wave over the whole picture, and noise curves in the glyphs' own colours crossing
 * the text band. Background texture stays in colours close to the
 * background so that every glyph keeps a WCAG contrast of at least 4.5:1 against
 * everything behind it.
 *
 * Measured, this raises the cost of reading but does not stop a trained reader:
 * the reference CNN attacker (../shared/captcha-strength, 10,000 samples, about four
 * epochs) reads most of these. Optional hardening knobs (outlines, decoys) are off by
 * default because they cost legibility for little gain; see the README.
 *
 * Drawing happens in two steps: planCaptcha() decides colours and per-glyph geometry
 * (exported so tests can check bounds and contrast without parsing pixels), then
 * paintCaptcha() draws the plan and the noise. Both draw from the same RandomSource
 * in a fixed order.
 */
import { Canvas, createCanvas, type CanvasRenderingContext2D, type PngConfig } from 'canvas';
import { CAPTCHA_ALPHABET } from './code.js';
import { CAPTCHA_FONT_FAMILIES } from './fonts.js';
import { between, pick, type RandomSource } from './random.js';

export interface RenderOptions {
  /** Image width in pixels. */
  width: number;
  /** Image height in pixels. */
  height: number;
  /** Registered font families to pick from per glyph (see fonts.ts). */
  fontFamilies: readonly string[];
  /** Smallest font size in pixels before fitting; glyphs shrink further only if they would not fit. */
  fontSizeMin: number;
  /** Largest font size in pixels before fitting. */
  fontSizeMax: number;
  /** Largest rotation of a glyph either way, in degrees. */
  maxRotationDegrees: number;
  /**
   * Largest distance of a glyph's centre from the middle of the image, in pixels; glyphs
   * that jump further look like lower-case or superscript forms.
   */
  verticalJitter: number;
  /** Narrowest horizontal stretch of a glyph (1 = as designed). */
  stretchMin: number;
  /** Widest horizontal stretch of a glyph. */
  stretchMax: number;
  /**
   * Closest spacing between neighbouring glyph centres, as a share of their half-widths
   * summed: below 1 the ink boxes overlap, so there is no clean gap to segment at.
   */
  spacingMin: number;
  /** Loosest spacing between neighbouring glyph centres (same unit as spacingMin). */
  spacingMax: number;
  /**
   * Probability that a glyph is drawn as a hollow outline instead of solid. Off by
   * default: at 0.35 (with stronger warp and curves) it cut the reference attacker's
   * solve rate only from about 80 % to 65-70 % and made serif glyphs hard to read.
   */
  outlineShare: number;
  /** Letters that may be drawn in lower case because both forms are unambiguous. */
  lowerCaseLetters: string;
  /** Probability that such a letter is drawn in lower case. */
  lowerCaseShare: number;
  /** Largest vertical displacement of the smooth wave applied to the picture, in pixels. */
  warpAmplitude: number;
  /** Shortest wavelength of the wave, in pixels (shorter bends single glyphs more). */
  warpWavelengthMin: number;
  /** Longest wavelength of the wave, in pixels. */
  warpWavelengthMax: number;
  /** Curves in glyph colours and stroke weight crossing the text band from edge to edge. */
  textCurves: number;
  /** Line width of those curves, in pixels. */
  textCurveWidth: number;
  /** Straight lines from the left edge to the right edge in glyph colours. */
  noiseLines: number;
  /** Single-pixel-ish dots anywhere. */
  dots: number;
  /** Small open arcs anywhere. */
  arcs: number;
  /**
   * Faint decoy letters behind the answer, in colours barely off the background
   * (contrast 1.25-1.5:1): a person skips them, a reader has to learn to. Off by
   * default: four of them did not slow the reference attacker down measurably and
   * they cost legibility.
   */
  decoys: number;
  /** Soft blobs in colours close to the background, as texture. */
  textureBlobs: number;
  /** zlib level for the PNG; above 3 costs more time than it saves bytes on these images. */
  pngCompressionLevel: number;
}

export const DEFAULT_RENDER_OPTIONS: Readonly<RenderOptions> = Object.freeze({
  width: 270,
  height: 40,
  fontFamilies: CAPTCHA_FONT_FAMILIES,
  fontSizeMin: 30,
  fontSizeMax: 36,
  maxRotationDegrees: 12,
  verticalJitter: 4,
  stretchMin: 1.15,
  stretchMax: 1.5,
  spacingMin: 0.92,
  spacingMax: 1.08,
  outlineShare: 0,
  lowerCaseLetters: 'E',
  lowerCaseShare: 0.3,
  warpAmplitude: 3,
  warpWavelengthMin: 60,
  warpWavelengthMax: 140,
  textCurves: 2,
  textCurveWidth: 1.5,
  noiseLines: 1,
  dots: 25,
  arcs: 4,
  decoys: 0,
  textureBlobs: 5,
  pngCompressionLevel: 3,
});

type NumericOption = Exclude<keyof RenderOptions, 'fontFamilies' | 'lowerCaseLetters'>;

/** Allowed range of every numeric option; integer options are counts or pixel sizes. */
const NUMERIC_LIMITS: Readonly<Record<NumericOption, { min: number; max: number; integer: boolean }>> = {
  width: { min: 60, max: 1000, integer: true },
  height: { min: 20, max: 300, integer: true },
  fontSizeMin: { min: 8, max: 200, integer: false },
  fontSizeMax: { min: 8, max: 200, integer: false },
  maxRotationDegrees: { min: 0, max: 45, integer: false },
  verticalJitter: { min: 0, max: 100, integer: false },
  stretchMin: { min: 0.5, max: 2, integer: false },
  stretchMax: { min: 0.5, max: 2, integer: false },
  spacingMin: { min: 0.4, max: 2, integer: false },
  spacingMax: { min: 0.4, max: 2, integer: false },
  lowerCaseShare: { min: 0, max: 1, integer: false },
  outlineShare: { min: 0, max: 1, integer: false },
  warpAmplitude: { min: 0, max: 20, integer: false },
  warpWavelengthMin: { min: 10, max: 2000, integer: false },
  warpWavelengthMax: { min: 10, max: 2000, integer: false },
  textCurves: { min: 0, max: 20, integer: true },
  textCurveWidth: { min: 0.5, max: 10, integer: false },
  noiseLines: { min: 0, max: 100, integer: true },
  dots: { min: 0, max: 5000, integer: true },
  arcs: { min: 0, max: 1000, integer: true },
  decoys: { min: 0, max: 50, integer: true },
  textureBlobs: { min: 0, max: 200, integer: true },
  pngCompressionLevel: { min: 0, max: 9, integer: true },
};

const MIN_MAX_PAIRS: ReadonlyArray<readonly [NumericOption, NumericOption]> = [
  ['fontSizeMin', 'fontSizeMax'],
  ['stretchMin', 'stretchMax'],
  ['spacingMin', 'spacingMax'],
  ['warpWavelengthMin', 'warpWavelengthMax'],
];

/** Merges options over the defaults and checks every value; throws RangeError naming the culprit. */
export function validateRenderOptions(options: Partial<RenderOptions> = {}): RenderOptions {
  const merged: RenderOptions = { ...DEFAULT_RENDER_OPTIONS, ...options };
  for (const [name, limits] of Object.entries(NUMERIC_LIMITS) as Array<[NumericOption, (typeof NUMERIC_LIMITS)[NumericOption]]>) {
    const value: unknown = merged[name];
    const valid =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      value >= limits.min &&
      value <= limits.max &&
      (!limits.integer || Number.isInteger(value));
    if (!valid) {
      const kind = limits.integer ? 'an integer' : 'a number';
      throw new RangeError(`render option ${name} must be ${kind} from ${limits.min} to ${limits.max}, got ${String(value)}`);
    }
  }
  for (const [lower, upper] of MIN_MAX_PAIRS) {
    if (merged[lower] > merged[upper]) {
      throw new RangeError(`render option ${lower} (${merged[lower]}) exceeds ${upper} (${merged[upper]})`);
    }
  }
  const families: unknown = merged.fontFamilies;
  if (!Array.isArray(families) || families.length === 0 || !families.every((f) => typeof f === 'string' && f.trim() !== '')) {
    throw new RangeError(`render option fontFamilies must be a non-empty list of family names, got ${JSON.stringify(families)}`);
  }
  const letters: unknown = merged.lowerCaseLetters;
  if (typeof letters !== 'string' || !/^[A-Z]*$/.test(letters)) {
    throw new RangeError(`render option lowerCaseLetters must be upper-case letters A-Z only, got ${JSON.stringify(letters)}`);
  }
  if (merged.fontSizeMin > merged.height) {
    throw new RangeError(`render option fontSizeMin (${merged.fontSizeMin}) exceeds height (${merged.height})`);
  }
  return merged;
}

// ---------------------------------------------------------------------------------
// Colour

export type Rgb = readonly [number, number, number];

function channelLuminance(channel: number): number {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** WCAG 2 relative luminance of an sRGB colour with 0-255 channels. */
export function relativeLuminance([r, g, b]: Rgb): number {
  return 0.2126 * channelLuminance(r) + 0.7152 * channelLuminance(g) + 0.0722 * channelLuminance(b);
}

/** WCAG 2 contrast ratio, from 1 (same luminance) to 21 (black on white); symmetric. */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** The contrast every glyph keeps against every background colour (WCAG AA, normal text). */
export const MIN_TEXT_CONTRAST = 4.5;

function hslToRgb(hueDegrees: number, saturation: number, lightness: number): Rgb {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const h = (((hueDegrees % 360) + 360) % 360) / 60;
  const x = chroma * (1 - Math.abs((h % 2) - 1));
  const [r, g, b] =
    h < 1 ? [chroma, x, 0] : h < 2 ? [x, chroma, 0] : h < 3 ? [0, chroma, x] : h < 4 ? [0, x, chroma] : h < 5 ? [x, 0, chroma] : [chroma, 0, x];
  const m = lightness - chroma / 2;
  const to255 = (v: number): number => Math.round(Math.min(1, Math.max(0, v + m)) * 255);
  return [to255(r), to255(g), to255(b)];
}

function css([r, g, b]: Rgb): string {
  return `rgb(${r},${g},${b})`;
}

export interface BackgroundPlan {
  dark: boolean;
  base: Rgb;
  /**
   * Colours of the texture blobs and decoy letters; glyph colours are checked against
   * these and the base. The first TEXTURE_COLOURS are for blobs, any after them for decoys.
   */
  texture: readonly Rgb[];
}

const TEXTURE_COLOURS = 3;
const DECOY_COLOURS = 2;

/** A mix of base towards target with at least the given contrast against base. */
function mixToContrast(base: Rgb, target: Rgb, contrast: number): Rgb {
  for (let step = 1; step <= 50; step += 1) {
    const t = step / 50;
    const channel = (i: 0 | 1 | 2): number => Math.round(base[i] * (1 - t) + target[i] * t);
    const mixed: Rgb = [channel(0), channel(1), channel(2)];
    if (contrastRatio(mixed, base) >= contrast) return mixed;
  }
  return target;
}

function planBackground(random: RandomSource, withDecoys: boolean): BackgroundPlan {
  const dark = random.float() < 0.5;
  const hue = between(random, 0, 360);
  const saturation = between(random, 0.15, 0.6);
  const lightness = dark ? between(random, 0.08, 0.2) : between(random, 0.82, 0.95);
  const base = hslToRgb(hue, saturation, lightness);
  const texture: Rgb[] = [];
  for (let i = 0; i < TEXTURE_COLOURS; i += 1) {
    texture.push(hslToRgb(hue + between(random, -30, 30), saturation, lightness + between(random, -0.06, 0.06)));
  }
  // Decoys lean the way the text does (darker on light), so they read as faint letters.
  const towardText: Rgb = dark ? [255, 255, 255] : [0, 0, 0];
  // Only when decoys are drawn: their colours narrow the choice of text colours.
  if (withDecoys) for (let i = 0; i < DECOY_COLOURS; i += 1) texture.push(mixToContrast(base, towardText, between(random, 1.25, 1.5)));
  return { dark, base, texture };
}

/**
 * A random glyph colour that keeps MIN_TEXT_CONTRAST against the whole background.
 * Text is darker than every background colour on a light background (lighter on a dark
 * one), so only the nearest background luminance binds. Lightness moves luminance
 * monotonically for a fixed hue and saturation, so a binary search finds the feasible
 * lightness range and the colour is drawn from inside it.
 */
function pickTextColour(random: RandomSource, background: BackgroundPlan): Rgb {
  const hue = between(random, 0, 360);
  const saturation = between(random, 0.45, 1);
  const position = random.float();
  const backgroundLuminances = [background.base, ...background.texture].map(relativeLuminance);
  const bindingLuminance = background.dark ? Math.max(...backgroundLuminances) : Math.min(...backgroundLuminances);
  const contrastWithBackground = (colour: Rgb): number => {
    const text = relativeLuminance(colour);
    return background.dark ? (text + 0.05) / (bindingLuminance + 0.05) : (bindingLuminance + 0.05) / (text + 0.05);
  };
  const ok = (l: number): boolean => contrastWithBackground(hslToRgb(hue, saturation, l)) >= MIN_TEXT_CONTRAST;
  // Light background: dark text, feasible lightness is [0, limit]. Dark: [limit, 1].
  let feasible = background.dark ? 1 : 0;
  let infeasible = 0.5;
  for (let i = 0; i < 20; i += 1) {
    const middle = (feasible + infeasible) / 2;
    if (ok(middle)) feasible = middle;
    else infeasible = middle;
  }
  const extreme = background.dark ? 0.97 : 0.03;
  const colour = hslToRgb(hue, saturation, extreme + (feasible - extreme) * position);
  if (contrastWithBackground(colour) >= MIN_TEXT_CONTRAST) return colour;
  return background.dark ? [255, 255, 255] : [0, 0, 0];
}

// ---------------------------------------------------------------------------------
// Layout

export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface GlyphPlan {
  /** The answer character this glyph stands for (upper case). */
  character: string;
  /** What is actually drawn: the character or its lower-case form. */
  drawn: string;
  family: string;
  /** Font size in pixels the glyph is drawn at. */
  size: number;
  colour: Rgb;
  /** Centre of the glyph's ink, in image coordinates before the wave. */
  centreX: number;
  centreY: number;
  rotation: number;
  stretch: number;
  /** Drawn as a hollow outline rather than solid. */
  outlined: boolean;
  /**
   * Where the ink can end up in the final image: the rotated, stretched ink box grown by
   * the wave's reach vertically. Always inside [0, width] x [0, height].
   */
  box: Box;
}

export interface CaptchaPlan {
  background: BackgroundPlan;
  glyphs: GlyphPlan[];
  /** Faint letters drawn behind the glyphs; not part of the answer. */
  decoys: GlyphPlan[];
}

/** Size factor for lower-case forms (x-height is about 0.7 of cap height in these fonts). */
const LOWER_CASE_SCALE = 1.3;

/** Decoys use the answer alphabet, so their shapes alone give nothing away. */
const DECOY_CHARACTERS = CAPTCHA_ALPHABET;

/** Clear space kept between any glyph's box and the image edge, in pixels. */
const EDGE_MARGIN = 1;

/**
 * Glyphs are rasterised once per font and character at this size and then drawn as
 * transformed images. Pango re-shapes and cairo re-rasterises text for every new size
 * or rotation matrix (milliseconds per glyph), while scaling a cached sprite costs
 * tens of microseconds. The default sizes stay near or below it, so sprites are hardly
 * ever enlarged (which would soften their edges).
 */
const SPRITE_FONT_SIZE = 48;
const SPRITE_SIZE = 96;

interface GlyphSprite {
  canvas: Canvas;
  /** The same glyph hollowed out: only a band along its edges is inked. */
  outline: Canvas;
  /** Ink rectangle inside the sprite, grown by one pixel for anti-aliased edges. */
  left: number;
  top: number;
  width: number;
  height: number;
}

const sprites = new Map<string, GlyphSprite>();

function glyphSprite(family: string, drawn: string): GlyphSprite {
  const key = `${family}\u0000${drawn}`;
  const cached = sprites.get(key);
  if (cached) return cached;
  const canvas = createCanvas(SPRITE_SIZE, SPRITE_SIZE);
  const ctx = canvas.getContext('2d');
  ctx.font = `${SPRITE_FONT_SIZE}px ${family}`;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'center';
  ctx.fillStyle = '#000';
  ctx.fillText(drawn, SPRITE_SIZE / 2, SPRITE_SIZE / 2);
  // The ink box comes from the pixels themselves, so layout bounds are exact.
  const alpha = ctx.getImageData(0, 0, SPRITE_SIZE, SPRITE_SIZE).data;
  let left = SPRITE_SIZE;
  let right = -1;
  let top = SPRITE_SIZE;
  let bottom = -1;
  for (let y = 0; y < SPRITE_SIZE; y += 1) {
    for (let x = 0; x < SPRITE_SIZE; x += 1) {
      if ((alpha[(y * SPRITE_SIZE + x) * 4 + 3] as number) === 0) continue;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  if (right < 0) throw new Error(`font ${family} has no visible glyph for ${JSON.stringify(drawn)}; are the fonts registered?`);
  const sprite: GlyphSprite = {
    canvas,
    outline: hollowedOut(canvas),
    left: Math.max(0, left - 1),
    top: Math.max(0, top - 1),
    width: Math.min(SPRITE_SIZE, right + 2) - Math.max(0, left - 1),
    height: Math.min(SPRITE_SIZE, bottom + 2) - Math.max(0, top - 1),
  };
  sprites.set(key, sprite);
  return sprite;
}

/** Pixel offsets whose shifted copies, intersected, erode a glyph by about three pixels. */
const EROSION_OFFSETS: ReadonlyArray<readonly [number, number]> = [
  [3, 0], [-3, 0], [0, 3], [0, -3], [2, 2], [2, -2], [-2, 2], [-2, -2],
];

/** The outline of a glyph sprite: the glyph minus an eroded copy of itself. */
function hollowedOut(glyph: Canvas): Canvas {
  const eroded = createCanvas(SPRITE_SIZE, SPRITE_SIZE);
  const e = eroded.getContext('2d');
  e.drawImage(glyph, 0, 0);
  e.globalCompositeOperation = 'destination-in';
  for (const [dx, dy] of EROSION_OFFSETS) e.drawImage(glyph, dx, dy);
  const outline = createCanvas(SPRITE_SIZE, SPRITE_SIZE);
  const o = outline.getContext('2d');
  o.drawImage(glyph, 0, 0);
  o.globalCompositeOperation = 'destination-out';
  o.drawImage(eroded, 0, 0);
  return outline;
}

interface Shape {
  drawn: string;
  family: string;
  size: number;
  rotation: number;
  stretch: number;
  outlined: boolean;
}

interface MeasuredShape extends Shape {
  halfWidth: number;
  halfHeight: number;
}

function measureShape(shape: Shape): MeasuredShape {
  const sprite = glyphSprite(shape.family, shape.drawn);
  const scale = shape.size / SPRITE_FONT_SIZE;
  const inkHalfWidth = (sprite.width / 2) * scale * shape.stretch;
  const inkHalfHeight = (sprite.height / 2) * scale;
  const cos = Math.abs(Math.cos(shape.rotation));
  const sin = Math.abs(Math.sin(shape.rotation));
  return {
    ...shape,
    // Half extents of the stretched ink rectangle after rotation about its centre.
    halfWidth: inkHalfWidth * cos + inkHalfHeight * sin,
    halfHeight: inkHalfWidth * sin + inkHalfHeight * cos,
  };
}

/**
 * Decides the background colours and where and how each glyph is drawn. Glyphs that
 * would not fit are shrunk (rather than clipped) so every glyph stays fully visible.
 */
export function planCaptcha(answer: string, options: RenderOptions, random: RandomSource): CaptchaPlan {
  if (answer.length === 0) throw new RangeError('captcha answer must not be empty');
  const background = planBackground(random, options.decoys > 0);
  // The wave moves columns by whole pixels, rounded, so it can reach ceil(amplitude).
  const waveReach = Math.ceil(options.warpAmplitude);
  const verticalRoom = options.height - 2 * (EDGE_MARGIN + waveReach);
  const horizontalRoom = options.width - 2 * EDGE_MARGIN;
  const maxRotation = (options.maxRotationDegrees * Math.PI) / 180;

  let shapes = [...answer].map((character): MeasuredShape => {
    const lower = options.lowerCaseLetters.includes(character) && random.float() < options.lowerCaseShare;
    const shape: Shape = {
      drawn: lower ? character.toLowerCase() : character,
      family: pick(random, options.fontFamilies),
      // Lower-case forms are drawn larger so their x-height matches the capitals around them.
      size: between(random, options.fontSizeMin, options.fontSizeMax) * (lower ? LOWER_CASE_SCALE : 1),
      rotation: between(random, -maxRotation, maxRotation),
      stretch: between(random, options.stretchMin, options.stretchMax),
      // No draw when outlines are off, so designs without them render as they always did.
      outlined: options.outlineShare > 0 && random.float() < options.outlineShare,
    };
    const measured = measureShape(shape);
    // Extents are linear in size, so one rescale makes a too-tall glyph fit exactly.
    if (2 * measured.halfHeight <= verticalRoom) return measured;
    return measureShape({ ...shape, size: (shape.size * verticalRoom) / (2 * measured.halfHeight) });
  });
  const spacings = shapes.slice(1).map(() => between(random, options.spacingMin, options.spacingMax));
  const centreOffsets = (list: readonly MeasuredShape[]): number[] => {
    const offsets = [0];
    for (let i = 1; i < list.length; i += 1) {
      const previous = list[i - 1] as MeasuredShape;
      const current = list[i] as MeasuredShape;
      offsets.push((offsets[i - 1] as number) + (previous.halfWidth + current.halfWidth) * (spacings[i - 1] as number));
    }
    return offsets;
  };
  const span = (list: readonly MeasuredShape[], offsets: readonly number[]): number => {
    let left = Infinity;
    let right = -Infinity;
    list.forEach((s, i) => {
      left = Math.min(left, (offsets[i] as number) - s.halfWidth);
      right = Math.max(right, (offsets[i] as number) + s.halfWidth);
    });
    return right - left;
  };
  let offsets = centreOffsets(shapes);
  const naturalSpan = span(shapes, offsets);
  if (naturalSpan > horizontalRoom) {
    shapes = shapes.map((s) => measureShape({ ...s, size: (s.size * horizontalRoom) / naturalSpan }));
    offsets = centreOffsets(shapes);
  }
  const leftOfFirst = Math.min(...shapes.map((s, i) => (offsets[i] as number) - s.halfWidth));
  const totalSpan = span(shapes, offsets);
  const startX = EDGE_MARGIN + Math.max(0, horizontalRoom - totalSpan) * random.float() - leftOfFirst;

  const glyphs = shapes.map((shape, i): GlyphPlan => {
    const top = EDGE_MARGIN + waveReach + shape.halfHeight;
    const bottom = options.height - EDGE_MARGIN - waveReach - shape.halfHeight;
    const middle = options.height / 2 + between(random, -options.verticalJitter, options.verticalJitter);
    const centreY = Math.min(Math.max(middle, top), Math.max(top, bottom));
    const centreX = startX + (offsets[i] as number);
    return {
      character: answer[i] as string,
      drawn: shape.drawn,
      family: shape.family,
      size: shape.size,
      colour: pickTextColour(random, background),
      centreX,
      centreY,
      rotation: shape.rotation,
      stretch: shape.stretch,
      outlined: shape.outlined,
      box: {
        left: centreX - shape.halfWidth,
        right: centreX + shape.halfWidth,
        top: centreY - shape.halfHeight - waveReach,
        bottom: centreY + shape.halfHeight + waveReach,
      },
    };
  });
  const decoyColours = background.texture.slice(TEXTURE_COLOURS);
  const decoys = Array.from({ length: options.decoys }, (): GlyphPlan => {
    const character = pick(random, [...DECOY_CHARACTERS]);
    const shape = measureShape({
      drawn: character,
      family: pick(random, options.fontFamilies),
      size: between(random, options.fontSizeMin, options.fontSizeMax),
      rotation: between(random, -maxRotation, maxRotation),
      stretch: between(random, options.stretchMin, options.stretchMax),
      outlined: false,
    });
    const fitted = 2 * shape.halfHeight <= verticalRoom ? shape : measureShape({ ...shape, size: (shape.size * verticalRoom) / (2 * shape.halfHeight) });
    const centreX = EDGE_MARGIN + fitted.halfWidth + Math.max(0, horizontalRoom - 2 * fitted.halfWidth) * random.float();
    const centreY = options.height / 2 + between(random, -1, 1) * Math.max(0, verticalRoom / 2 - fitted.halfHeight);
    return {
      character,
      drawn: character,
      family: fitted.family,
      size: fitted.size,
      colour: pick(random, decoyColours),
      centreX,
      centreY,
      rotation: fitted.rotation,
      stretch: fitted.stretch,
      outlined: false,
      box: {
        left: centreX - fitted.halfWidth,
        right: centreX + fitted.halfWidth,
        top: centreY - fitted.halfHeight - waveReach,
        bottom: centreY + fitted.halfHeight + waveReach,
      },
    };
  });
  return { background, glyphs, decoys };
}

// ---------------------------------------------------------------------------------
// Painting

function paintBackground(ctx: CanvasRenderingContext2D, options: RenderOptions, plan: CaptchaPlan, random: RandomSource): void {
  const { width, height } = options;
  ctx.fillStyle = css(plan.background.base);
  ctx.fillRect(0, 0, width, height);
  // Large soft shapes: texture that costs few PNG bytes and never lowers text contrast.
  const blobColours = plan.background.texture.slice(0, TEXTURE_COLOURS);
  for (let i = 0; i < options.textureBlobs; i += 1) {
    ctx.fillStyle = css(pick(random, blobColours));
    ctx.beginPath();
    ctx.ellipse(
      between(random, 0, width),
      between(random, 0, height),
      between(random, width / 12, width / 4),
      between(random, height / 4, height),
      between(random, 0, Math.PI),
      0,
      2 * Math.PI,
    );
    ctx.fill();
  }
}

/** Reused scratch canvas for colouring a sprite; drawing is synchronous, so sharing is safe. */
let tintCanvas: Canvas | undefined;

function paintGlyphs(ctx: CanvasRenderingContext2D, glyphs: readonly GlyphPlan[]): void {
  tintCanvas ??= createCanvas(SPRITE_SIZE, SPRITE_SIZE);
  const tint = tintCanvas.getContext('2d');
  for (const glyph of glyphs) {
    const sprite = glyphSprite(glyph.family, glyph.drawn);
    // Only the ink rectangle is copied, tinted and read back, so the rest may hold leftovers.
    tint.globalCompositeOperation = 'copy';
    tint.drawImage(glyph.outlined ? sprite.outline : sprite.canvas, sprite.left, sprite.top, sprite.width, sprite.height, sprite.left, sprite.top, sprite.width, sprite.height);
    tint.globalCompositeOperation = 'source-in';
    tint.fillStyle = css(glyph.colour);
    tint.fillRect(sprite.left, sprite.top, sprite.width, sprite.height);
    const scale = glyph.size / SPRITE_FONT_SIZE;
    ctx.save();
    ctx.translate(glyph.centreX, glyph.centreY);
    ctx.rotate(glyph.rotation);
    ctx.scale(scale * glyph.stretch, scale);
    ctx.drawImage(tintCanvas, sprite.left, sprite.top, sprite.width, sprite.height, -sprite.width / 2, -sprite.height / 2, sprite.width, sprite.height);
    ctx.restore();
  }
}

/**
 * Curves in the glyphs' colours that wander through the text band from edge to edge,
 * so a reader cannot drop them by colour. textCurveWidth sets how close they come to a
 * glyph's stroke weight: closer is harder for a reader and for a person alike.
 */
function paintTextCurves(ctx: CanvasRenderingContext2D, options: RenderOptions, plan: CaptchaPlan, random: RandomSource): void {
  const { width, height } = options;
  const bandTop = Math.min(...plan.glyphs.map((g) => g.box.top));
  const bandBottom = Math.max(...plan.glyphs.map((g) => g.box.bottom));
  const y = (): number => between(random, bandTop, bandBottom);
  ctx.lineWidth = options.textCurveWidth;
  ctx.lineCap = 'round';
  for (let i = 0; i < options.textCurves; i += 1) {
    ctx.strokeStyle = css(pick(random, plan.glyphs).colour);
    ctx.beginPath();
    ctx.moveTo(0, between(random, 0, height));
    ctx.bezierCurveTo(width / 3, y(), (2 * width) / 3, y(), width, between(random, 0, height));
    ctx.stroke();
  }
}

/**
 * Bends the picture with a smooth vertical wave, column by column. Shifts are whole
 * pixels: interpolating between rows would blur every edge into new colours, which
 * costs PNG bytes and time while adding nothing a reader could not undo anyway. Rows
 * beyond the edge repeat the edge row (background), so nothing is torn.
 */
function applyWave(ctx: CanvasRenderingContext2D, options: RenderOptions, random: RandomSource): void {
  if (options.warpAmplitude === 0) return;
  const { width, height } = options;
  const wavelengthA = between(random, options.warpWavelengthMin, options.warpWavelengthMax);
  const wavelengthB = between(random, options.warpWavelengthMin, options.warpWavelengthMax) / 2;
  const phaseA = between(random, 0, 2 * Math.PI);
  const phaseB = between(random, 0, 2 * Math.PI);
  const weightA = between(random, 0.5, 0.8);
  const image = ctx.getImageData(0, 0, width, height);
  const pixels = new Uint32Array(image.data.buffer, image.data.byteOffset, width * height);
  const column = new Uint32Array(height);
  for (let x = 0; x < width; x += 1) {
    const wave =
      weightA * Math.sin((2 * Math.PI * x) / wavelengthA + phaseA) + (1 - weightA) * Math.sin((2 * Math.PI * x) / wavelengthB + phaseB);
    const shift = Math.round(options.warpAmplitude * wave);
    if (shift === 0) continue;
    for (let y = 0; y < height; y += 1) column[y] = pixels[y * width + x] as number;
    for (let y = 0; y < height; y += 1) {
      // Target row y shows source row y - shift, clamped to the image.
      pixels[y * width + x] = column[Math.min(height - 1, Math.max(0, y - shift))] as number;
    }
  }
  ctx.putImageData(image, 0, 0);
}

function paintNoise(ctx: CanvasRenderingContext2D, options: RenderOptions, plan: CaptchaPlan, random: RandomSource): void {
  const { width, height } = options;
  const inkColours = plan.glyphs.map((g) => g.colour);
  const anyColour = (): Rgb => (random.float() < 0.5 ? pick(random, inkColours) : pick(random, plan.background.texture));
  ctx.lineCap = 'butt';
  for (let i = 0; i < options.noiseLines; i += 1) {
    ctx.strokeStyle = css(pick(random, inkColours));
    ctx.lineWidth = between(random, 1, 2);
    ctx.beginPath();
    ctx.moveTo(0, between(random, 0, height));
    ctx.lineTo(width, between(random, 0, height));
    ctx.stroke();
  }
  for (let i = 0; i < options.arcs; i += 1) {
    ctx.strokeStyle = css(anyColour());
    ctx.lineWidth = between(random, 1, 2);
    const start = between(random, 0, 2 * Math.PI);
    ctx.beginPath();
    ctx.arc(between(random, 0, width), between(random, 0, height), between(random, 3, 9), start, start + between(random, 1, 3));
    ctx.stroke();
  }
  for (let i = 0; i < options.dots; i += 1) {
    ctx.fillStyle = css(anyColour());
    const size = between(random, 1, 2.5);
    ctx.fillRect(Math.floor(between(random, 0, width)), Math.floor(between(random, 0, height)), size, size);
  }
}

function paintCaptcha(canvas: Canvas, answer: string, options: RenderOptions, random: RandomSource): void {
  const plan = planCaptcha(answer, options, random);
  const ctx = canvas.getContext('2d');
  paintBackground(ctx, options, plan, random);
  paintGlyphs(ctx, plan.decoys);
  paintGlyphs(ctx, plan.glyphs);
  paintTextCurves(ctx, options, plan, random);
  applyWave(ctx, options, random);
  paintNoise(ctx, options, plan, random);
}

/** Draws a captcha on a new canvas. Fonts must be registered first (registerCaptchaFonts). */
export function drawCaptcha(answer: string, options: RenderOptions, random: RandomSource): Canvas {
  const canvas = createCanvas(options.width, options.height);
  paintCaptcha(canvas, answer, options, random);
  return canvas;
}

function pngConfig(options: RenderOptions): PngConfig {
  return {
    compressionLevel: options.pngCompressionLevel as PngConfig['compressionLevel'],
    // Measured on these images: no filter gives the smallest files (large flat areas
    // compress well as they are) and skips libpng's per-row filter search.
    filters: Canvas.PNG_FILTER_NONE,
  };
}

/** Draws and encodes a captcha; the PNG encoding runs on libuv's thread pool. */
export function renderCaptcha(answer: string, options: RenderOptions, random: RandomSource): Promise<Buffer> {
  // A fresh canvas per call: the encoder reads it on another thread while the next
  // captcha may already be drawing.
  const canvas = drawCaptcha(answer, options, random);
  return new Promise((resolve, reject) => {
    canvas.toBuffer((error, png) => (error ? reject(error) : resolve(png)), 'image/png', pngConfig(options));
  });
}

/**
 * A canvas reused by renderCaptchaSync: creating one costs about as much as drawing the
 * glyphs, and synchronous encoding finishes before the canvas can be drawn on again.
 * Every paint starts with an opaque fill of the whole canvas, so nothing carries over.
 */
let reusableCanvas: Canvas | undefined;

/** Synchronous variant for scripts and benchmarks; blocks the event loop while encoding. */
export function renderCaptchaSync(answer: string, options: RenderOptions, random: RandomSource): Buffer {
  if (reusableCanvas?.width !== options.width || reusableCanvas.height !== options.height) {
    reusableCanvas = createCanvas(options.width, options.height);
  }
  paintCaptcha(reusableCanvas, answer, options, random);
  return reusableCanvas.toBuffer('image/png', pngConfig(options));
}
