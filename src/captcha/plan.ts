/**
 * What a captcha will look like, decided before any pixel is drawn: colours, where and
 * how each glyph sits, and the warp. Exported so that tests can check bounds and contrast
 * without parsing pixels; painting (render.ts) takes the plan as it is.
 *
 * Colours: a background gradient and an ink gradient, both sampled in COLOUR_BANDS
 * column bands; every ink colour keeps MIN_TEXT_CONTRAST against every background colour
 * (see colour.ts). Layout: per glyph a font, size, rotation, shear and stretch; glyphs
 * are measured through their exact transformed outline, kept a clear gap apart (boxes
 * that include the warp's reach, so their inks never meet), shrunk (never clipped) to
 * fit, and placed along a wavy baseline, keeping the warp's reach clear of the edges.
 * Decoys (pale, smaller letters) go only where their boxes stay clear of every glyph's.
 */
import { gradientColours, hslToRgb, MIN_TEXT_CONTRAST, relativeLuminance, worstContrast, type Gradient, type Rgb } from './colour.js';
import { CAPTCHA_ALPHABET } from './code.js';
import { between, pick, type RandomSource } from './random.js';
import type { RenderOptions } from './render-options.js';
import { glyphSprite, SPRITE_FONT_SIZE } from './sprites.js';

// ---------------------------------------------------------------------------------
// Colours

export interface ColourPlan {
  /** Light background with dark ink, or the other way round. */
  dark: boolean;
  /** Background colours from the left edge to the right edge. */
  background: Gradient;
  /** Ink colours (glyphs and noise alike) from the left edge to the right edge. */
  ink: Gradient;
}

/**
 * The image is split into this many column bands, each with one background and one ink
 * colour taken along the two gradients: with COVERAGE_LEVELS ramp steps each, the whole
 * palette fits the 256 entries of an 8-bit indexed PNG.
 */
export const COLOUR_BANDS = 16;
/** Steps from background (0) to full ink (COVERAGE_LEVELS - 1) within a band. */
export const COVERAGE_LEVELS = 16;

/** The background and full-ink colour of every band, left to right: exactly what the PNG shows. */
export function bandColours(colours: ColourPlan): { background: Rgb[]; ink: Rgb[] } {
  return { background: gradientColours(colours.background, COLOUR_BANDS), ink: gradientColours(colours.ink, COLOUR_BANDS) };
}

/** Ink colours never use the very ends of the lightness scale: pure black or white look flat. */
const INK_LIGHTNESS_LIMIT = 0.03;

/**
 * A random ink colour of the given hue and saturation whose luminance keeps
 * MIN_TEXT_CONTRAST against `binding` (the background's lightest luminance for dark ink,
 * its darkest for light ink). Lightness moves luminance monotonically for a fixed hue and
 * saturation, so a binary search finds the feasible lightness range.
 */
function inkColour(random: RandomSource, hue: number, saturation: number, dark: boolean, binding: number): Rgb {
  let feasible = dark ? 1 : 0;
  let infeasible = 0.5;
  for (let i = 0; i < 16; i += 1) {
    const middle = (feasible + infeasible) / 2;
    const luminance = relativeLuminance(hslToRgb(hue, saturation, middle));
    const ratio = dark ? (luminance + 0.05) / (binding + 0.05) : (binding + 0.05) / (luminance + 0.05);
    if (ratio >= MIN_TEXT_CONTRAST) feasible = middle;
    else infeasible = middle;
  }
  const extreme = dark ? 1 - INK_LIGHTNESS_LIMIT : INK_LIGHTNESS_LIMIT;
  return hslToRgb(hue, saturation, extreme + (feasible - extreme) * random.float());
}

function backgroundLightness(random: RandomSource, dark: boolean): number {
  return dark ? between(random, 0.06, 0.2) : between(random, 0.8, 0.95);
}

function planColours(random: RandomSource): ColourPlan {
  const dark = random.float() < 0.5;
  const hue = between(random, 0, 360);
  const saturation = between(random, 0.15, 0.65);
  const background = {
    from: hslToRgb(hue, saturation, backgroundLightness(random, dark)),
    to: hslToRgb(hue + between(random, -60, 60), saturation, backgroundLightness(random, dark)),
  };
  const backgroundBands = gradientColours(background, COLOUR_BANDS);
  const luminances = backgroundBands.map(relativeLuminance);
  const binding = dark ? Math.max(...luminances) : Math.min(...luminances);
  const inkHue = between(random, 0, 360);
  const inkSaturation = between(random, 0.4, 1);
  const from = inkColour(random, inkHue, inkSaturation, dark, binding);
  const to = inkColour(random, inkHue + between(random, -90, 90), inkSaturation, dark, binding);
  if (worstContrast(gradientColours({ from, to }, COLOUR_BANDS), backgroundBands) >= MIN_TEXT_CONTRAST) {
    return { dark, background, ink: { from, to } };
  }
  // Light ink can dip in luminance between two hues (see colour.ts); one colour cannot.
  return { dark, background, ink: { from, to: from } };
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
  family: string;
  /** Font size in pixels the glyph is drawn at. */
  size: number;
  /** Where the centre of the sprite's ink rectangle lands, in image coordinates before the warp. */
  centreX: number;
  centreY: number;
  /** Radians, clockwise. */
  rotation: number;
  shear: number;
  stretch: number;
  /** Where the ink can end up (the transformed glyph's bounds, grown by the warp's reach), inside the image. */
  box: Box;
}

/**
 * The local warp of the glyphs (noise is not warped): a pixel at (x, y) shows the glyphs
 * as they are at (x + dx, y + dy), where each displacement is
 * amplitude * sin(2 pi phase) and phase = (x * stepX + y * stepY + offset) / 2^24 turns:
 * integer arithmetic per pixel, sines from a 256-entry table.
 */
export interface WarpPlan {
  amplitude: number;
  dx: WaveSteps;
  dy: WaveSteps;
}

export interface WaveSteps {
  stepX: number;
  stepY: number;
  offset: number;
}

export interface CaptchaPlan extends ColourPlan {
  glyphs: GlyphPlan[];
  /** Pale letters behind the answer, drawn in the noise's ink (RenderOptions.decoys). */
  decoys: GlyphPlan[];
  warp: WarpPlan;
}

/** Clear space kept between any glyph's box and the image edge, in pixels. */
const EDGE_MARGIN = 1;

interface Shape {
  character: string;
  family: string;
  size: number;
  rotation: number;
  shear: number;
  stretch: number;
}

/** Where the transformed ink reaches, relative to the glyph's centre. */
interface MeasuredShape extends Shape {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/** The 2x2 matrix that takes sprite pixels to image pixels: rotate . shear . scale. */
export function glyphMatrix(shape: Shape): [number, number, number, number] {
  const scale = shape.size / SPRITE_FONT_SIZE;
  const sx = scale * shape.stretch;
  const cos = Math.cos(shape.rotation);
  const sin = Math.sin(shape.rotation);
  // Columns: where the sprite's x and y axes go. [a c; b d] as in canvas transform().
  return [cos * sx, sin * sx, (cos * shape.shear - sin) * scale, (sin * shape.shear + cos) * scale];
}

function measureShape(shape: Shape): MeasuredShape {
  const points = glyphSprite(shape.family, shape.character).edgePoints;
  const [a, b, c, d] = glyphMatrix(shape);
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < points.length; i += 2) {
    const px = points[i] as number;
    const py = points[i + 1] as number;
    const x = a * px + c * py;
    const y = b * px + d * py;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  // Built field by field: a spread of the (differently shaped) argument makes every
  // caller's object a new hidden class, which cost more than the measuring itself.
  const { character, family, size, rotation, shear, stretch } = shape;
  return { character, family, size, rotation, shear, stretch, minX, maxX, minY, maxY };
}

/** The same shape at a size that scales its extents by `factor` (extents are linear in size). */
function resized(shape: MeasuredShape, factor: number): MeasuredShape {
  const { character, family, size, rotation, shear, stretch } = shape;
  return measureShape({ character, family, size: size * factor, rotation, shear, stretch });
}

/** Fixed-point phase: 2^24 steps per turn, so the top 8 bits index the sine table. */
export const PHASE_BITS = 24;
export const TURN = 2 ** PHASE_BITS;

/**
 * Two waves at random angles. The horizontal displacement varies mostly down the image
 * and the vertical one mostly along it, so strokes bend sideways and baselines ripple.
 */
function planWarp(options: RenderOptions, random: RandomSource): WarpPlan {
  const wave = (across: 'x' | 'y'): WaveSteps => {
    const frequency = 1 / between(random, options.warpWavelengthMin, options.warpWavelengthMax);
    const angle = between(random, -0.6, 0.6);
    const main = Math.round(frequency * Math.cos(angle) * TURN);
    const cross = Math.round(frequency * Math.sin(angle) * TURN);
    const offset = random.int(TURN);
    return across === 'y' ? { stepX: cross, stepY: main, offset } : { stepX: main, stepY: cross, offset };
  };
  return { amplitude: options.warpAmplitude, dx: wave('y'), dy: wave('x') };
}

/**
 * Decides the colours and where and how each glyph is drawn. Glyphs that would not fit
 * are shrunk (rather than clipped) so every glyph stays fully visible.
 */
export function planCaptcha(answer: string, options: RenderOptions, random: RandomSource): CaptchaPlan {
  if (answer.length === 0) throw new RangeError('captcha answer must not be empty');
  const colours = planColours(random);
  // The warp moves glyph pixels by at most its amplitude, and bilinear sampling reaches
  // one pixel further; glyphs keep that much more room from the edges.
  const margin = EDGE_MARGIN + Math.ceil(options.warpAmplitude) + (options.warpAmplitude > 0 ? 1 : 0);
  const verticalRoom = options.height - 2 * margin;
  const horizontalRoom = options.width - 2 * margin;
  const maxRotation = (options.maxRotationDegrees * Math.PI) / 180;

  let shapes = [...answer].map((character): MeasuredShape => {
    const measured = measureShape({
      character,
      family: pick(random, options.fontFamilies),
      size: between(random, options.fontSizeMin, options.fontSizeMax),
      rotation: between(random, -maxRotation, maxRotation),
      shear: between(random, -options.maxShear, options.maxShear),
      stretch: between(random, options.stretchMin, options.stretchMax),
    });
    const tall = measured.maxY - measured.minY;
    return tall <= verticalRoom ? measured : resized(measured, verticalRoom / tall);
  });
  // Neighbouring boxes (ink plus the warp's reach on each side) are `gap` pixels apart,
  // so two glyphs' inks never meet, whatever the warp does.
  const reach = margin - EDGE_MARGIN;
  const gaps = shapes.slice(1).map(() => 2 * reach + between(random, options.glyphGapMin, options.glyphGapMax));
  const inkWidth = (list: readonly MeasuredShape[]): number => list.reduce((sum, s) => sum + s.maxX - s.minX, 0);
  const fixedWidth = gaps.reduce((sum, gap) => sum + gap, 0);
  if (inkWidth(shapes) + fixedWidth > horizontalRoom) {
    // Extents are linear in size, so this factor makes the row fit exactly (gaps kept).
    const factor = (horizontalRoom - fixedWidth) / inkWidth(shapes);
    if (!(factor > 0)) throw new RangeError(`captcha of ${answer.length} glyphs cannot fit ${options.width} px with gaps of ${options.glyphGapMin} px or more`);
    shapes = shapes.map((s) => resized(s, factor));
  }
  const offsets = [0];
  for (let i = 1; i < shapes.length; i += 1) {
    const previous = shapes[i - 1] as MeasuredShape;
    const current = shapes[i] as MeasuredShape;
    offsets.push((offsets[i - 1] as number) + previous.maxX - current.minX + (gaps[i - 1] as number));
  }
  const first = shapes[0] as MeasuredShape;
  const last = shapes[shapes.length - 1] as MeasuredShape;
  const rowWidth = (offsets[offsets.length - 1] as number) + last.maxX - first.minX;
  const startX = margin + Math.max(0, horizontalRoom - rowWidth) * random.float() - first.minX;
  const wavelength = between(random, options.baselineWavelengthMin, options.baselineWavelengthMax);
  const phase = between(random, 0, 2 * Math.PI);

  const glyphs = shapes.map((shape, i): GlyphPlan => {
    const centreX = startX + (offsets[i] as number);
    const top = margin - shape.minY;
    const bottom = options.height - margin - shape.maxY;
    const wanted =
      options.height / 2 +
      options.baselineAmplitude * Math.sin((2 * Math.PI * centreX) / wavelength + phase) +
      between(random, -options.verticalJitter, options.verticalJitter);
    return placed(shape, centreX, Math.min(Math.max(wanted, top), Math.max(top, bottom)), reach);
  });
  const warp = planWarp(options, random);
  return { ...colours, glyphs, decoys: planDecoys(options, random, maxRotation, reach, glyphs), warp };
}

/** A measured shape put at a centre; its box is where its ink can reach, the warp's `reach` included. */
function placed(shape: MeasuredShape, centreX: number, centreY: number, reach: number): GlyphPlan {
  const { character, family, size, rotation, shear, stretch } = shape;
  return {
    character,
    family,
    size,
    centreX,
    centreY,
    rotation,
    shear,
    stretch,
    box: {
      left: centreX + shape.minX - reach,
      right: centreX + shape.maxX + reach,
      top: centreY + shape.minY - reach,
      bottom: centreY + shape.maxY + reach,
    },
  };
}

const DECOY_CHARACTERS = [...CAPTCHA_ALPHABET];

/** Decoys are drawn smaller than the answer's glyphs, between these shares of their size. */
const DECOY_SCALE_MIN = 0.55;
const DECOY_SCALE_MAX = 0.8;

/**
 * Pale letters of the answer alphabet beside the answer, never on it: a reader has to
 * learn to tell letters by their ink, not just their shape. Blind panels hesitated over
 * decoys laid across an answer glyph, so each decoy's centre is drawn from the stretches
 * of the picture where its box stays clear of every glyph box (the ends of the row, and
 * past the picture's edges, where a decoy is cut off); where there is none, it is left out.
 */
function planDecoys(options: RenderOptions, random: RandomSource, maxRotation: number, reach: number, glyphs: readonly GlyphPlan[]): GlyphPlan[] {
  const decoys: GlyphPlan[] = [];
  for (let k = 0; k < options.decoys; k += 1) {
    const shape = measureShape({
      character: pick(random, DECOY_CHARACTERS),
      family: pick(random, options.fontFamilies),
      size: between(random, options.fontSizeMin, options.fontSizeMax) * between(random, DECOY_SCALE_MIN, DECOY_SCALE_MAX),
      rotation: between(random, -maxRotation, maxRotation),
      shear: between(random, -options.maxShear, options.maxShear),
      stretch: between(random, options.stretchMin, options.stretchMax),
    });
    const free = freeStretches(
      glyphs.map(({ box }) => ({ from: box.left - shape.maxX - reach, to: box.right - shape.minX + reach })),
      0,
      options.width,
    );
    const total = free.reduce((sum, { from, to }) => sum + to - from, 0);
    let at = random.float() * total;
    const centreY = between(random, 0, options.height);
    let centreX: number | undefined;
    for (const { from, to } of free) {
      if (at < to - from) {
        centreX = from + at;
        break;
      }
      at -= to - from;
    }
    if (centreX !== undefined) decoys.push(placed(shape, centreX, centreY, reach));
  }
  return decoys;
}

interface Stretch {
  from: number;
  to: number;
}

/** The parts of [from, to) that none of `taken` covers, left to right. */
function freeStretches(taken: readonly Stretch[], from: number, to: number): Stretch[] {
  const free: Stretch[] = [];
  let cursor = from;
  for (const t of [...taken].sort((a, b) => a.from - b.from)) {
    if (t.from > cursor) free.push({ from: cursor, to: Math.min(t.from, to) });
    cursor = Math.max(cursor, t.to);
    if (cursor >= to) break;
  }
  if (cursor < to) free.push({ from: cursor, to });
  return free;
}
