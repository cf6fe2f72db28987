/**
 * Captcha image renderer: answer + options + random source in, PNG out. Pure: no I/O,
 * no clock, no Math.random, so a seeded RandomSource gives byte-identical images.
 *
 * Model. The threat is a reader trained on unlimited labelled samples (the generator is
 * open source), so the look aims at what such a reader needs many examples to learn
 * while a person reads it at once: each character in one of seven font styles and
 * either case where both forms are unambiguous, rotated, sheared and stretched on its
 * own, glyphs that touch and overlap with jittered spacing along a wavy baseline, a
 * smooth local warp that bends strokes inside each glyph differently, and noise curves,
 * arcs and dots in the same ink as the glyphs so that colour does not tell noise from
 * text. The background is a smooth gradient: texture costs PNG bytes and contrast.
 *
 * Pixels. Noise curves and arcs are stroked by canvas as ink coverage on an alpha-only
 * canvas; glyphs are sampled from cached sprites through their transform and the warp
 * in one JavaScript pass (composeIndices), which costs less than cairo drawing
 * transformed images. The result is stored as an 8-bit indexed PNG whose palette holds,
 * for each of COLOUR_BANDS column bands, a ramp from that band's background colour to
 * its ink colour. So the image has exactly the colours the plan says (the contrast
 * guarantee is checked on them, see colour.ts), and the PNG is a quarter of the raw data
 * of RGBA: smaller and faster to compress.
 *
 * Steps: planCaptcha() decides colours, per-glyph geometry and the warp (exported so
 * tests can check bounds and contrast without parsing pixels), then painting draws the
 * plan and the noise. Both take from the same RandomSource in a fixed order.
 */
import { Canvas, createCanvas, type CanvasRenderingContext2D, type PngConfig } from 'canvas';
import { gradientColours, hslToRgb, MIN_TEXT_CONTRAST, relativeLuminance, worstContrast, type Gradient, type Rgb } from './colour.js';
import { CAPTCHA_FONT_FAMILIES } from './fonts.js';
import { between, pick, type RandomSource } from './random.js';
import { glyphSprite, SPRITE_FONT_SIZE } from './sprites.js';

export { contrastRatio, MIN_TEXT_CONTRAST } from './colour.js';

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
  /** Largest horizontal shear of a glyph either way (0.3 leans the top 0.3 px per px of height). */
  maxShear: number;
  /** Narrowest horizontal stretch of a glyph (1 = as designed). */
  stretchMin: number;
  /** Widest horizontal stretch of a glyph. */
  stretchMax: number;
  /**
   * Closest spacing between neighbouring glyph centres, as a share of the distance at
   * which their inks' bounding boxes would just touch: below 1 they overlap, so there is
   * no clean gap to segment at.
   */
  spacingMin: number;
  /** Loosest spacing between neighbouring glyph centres (same unit as spacingMin). */
  spacingMax: number;
  /** Largest rise or fall of the wavy baseline the glyph centres follow, in pixels. */
  baselineAmplitude: number;
  /** Shortest wavelength of the baseline wave, in pixels. */
  baselineWavelengthMin: number;
  /** Longest wavelength of the baseline wave, in pixels. */
  baselineWavelengthMax: number;
  /** Largest extra up-or-down shift of a single glyph off the baseline, in pixels. */
  verticalJitter: number;
  /** Letters that may be drawn in lower case because both forms are unambiguous. */
  lowerCaseLetters: string;
  /** Probability that such a letter is drawn in lower case. */
  lowerCaseShare: number;
  /**
   * Largest displacement of the local warp, in pixels: every pixel is moved by two
   * waves running at random angles, which bends strokes inside each glyph differently.
   */
  warpAmplitude: number;
  /** Shortest wavelength of the warp's waves, in pixels (shorter bends more sharply). */
  warpWavelengthMin: number;
  /** Longest wavelength of the warp's waves, in pixels. */
  warpWavelengthMax: number;
  /** Curves in the ink crossing the text band from edge to edge. */
  textCurves: number;
  /** Line width of those curves, in pixels: near a glyph's stroke weight they look like strokes. */
  textCurveWidth: number;
  /** Small open arcs in the ink, anywhere. */
  arcs: number;
  /** Dots of ink, one or two pixels square, anywhere. */
  dots: number;
  /** zlib level for the PNG. */
  pngCompressionLevel: number;
}

export const DEFAULT_RENDER_OPTIONS: Readonly<RenderOptions> = Object.freeze({
  width: 270,
  height: 40,
  fontFamilies: CAPTCHA_FONT_FAMILIES,
  fontSizeMin: 30,
  fontSizeMax: 38,
  maxRotationDegrees: 18,
  maxShear: 0.3,
  stretchMin: 1.2,
  stretchMax: 1.6,
  spacingMin: 0.86,
  spacingMax: 1,
  baselineAmplitude: 5,
  baselineWavelengthMin: 80,
  baselineWavelengthMax: 200,
  verticalJitter: 2,
  lowerCaseLetters: 'EHMTY',
  lowerCaseShare: 0.4,
  warpAmplitude: 2,
  warpWavelengthMin: 45,
  warpWavelengthMax: 90,
  textCurves: 2,
  textCurveWidth: 2,
  arcs: 3,
  dots: 20,
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
  maxShear: { min: 0, max: 1, integer: false },
  stretchMin: { min: 0.5, max: 2, integer: false },
  stretchMax: { min: 0.5, max: 2, integer: false },
  spacingMin: { min: 0.4, max: 2, integer: false },
  spacingMax: { min: 0.4, max: 2, integer: false },
  baselineAmplitude: { min: 0, max: 100, integer: false },
  baselineWavelengthMin: { min: 10, max: 5000, integer: false },
  baselineWavelengthMax: { min: 10, max: 5000, integer: false },
  verticalJitter: { min: 0, max: 100, integer: false },
  lowerCaseShare: { min: 0, max: 1, integer: false },
  warpAmplitude: { min: 0, max: 10, integer: false },
  warpWavelengthMin: { min: 4, max: 5000, integer: false },
  warpWavelengthMax: { min: 4, max: 5000, integer: false },
  textCurves: { min: 0, max: 20, integer: true },
  textCurveWidth: { min: 0.5, max: 10, integer: false },
  arcs: { min: 0, max: 1000, integer: true },
  dots: { min: 0, max: 5000, integer: true },
  pngCompressionLevel: { min: 0, max: 9, integer: true },
};

const MIN_MAX_PAIRS: ReadonlyArray<readonly [NumericOption, NumericOption]> = [
  ['fontSizeMin', 'fontSizeMax'],
  ['stretchMin', 'stretchMax'],
  ['spacingMin', 'spacingMax'],
  ['baselineWavelengthMin', 'baselineWavelengthMax'],
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
  const ok = (lightness: number): boolean => {
    const luminance = relativeLuminance(hslToRgb(hue, saturation, lightness));
    const ratio = dark ? (luminance + 0.05) / (binding + 0.05) : (binding + 0.05) / (luminance + 0.05);
    return ratio >= MIN_TEXT_CONTRAST;
  };
  let feasible = dark ? 1 : 0;
  let infeasible = 0.5;
  for (let i = 0; i < 16; i += 1) {
    const middle = (feasible + infeasible) / 2;
    if (ok(middle)) feasible = middle;
    else infeasible = middle;
  }
  const extreme = dark ? 1 - INK_LIGHTNESS_LIMIT : INK_LIGHTNESS_LIMIT;
  return hslToRgb(hue, saturation, extreme + (feasible - extreme) * random.float());
}

function planColours(random: RandomSource): ColourPlan {
  const dark = random.float() < 0.5;
  const hue = between(random, 0, 360);
  const saturation = between(random, 0.15, 0.65);
  const lightness = (): number => (dark ? between(random, 0.06, 0.2) : between(random, 0.8, 0.95));
  const background = {
    from: hslToRgb(hue, saturation, lightness()),
    to: hslToRgb(hue + between(random, -60, 60), saturation, lightness()),
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
  /** What is actually drawn: the character or its lower-case form. */
  drawn: string;
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
  warp: WarpPlan;
}

/** Size factor for lower-case forms (x-height is about 0.7 of cap height in these fonts). */
const LOWER_CASE_SCALE = 1.3;

/** Clear space kept between any glyph's box and the image edge, in pixels. */
const EDGE_MARGIN = 1;

interface Shape {
  drawn: string;
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
function glyphMatrix(shape: Shape): [number, number, number, number] {
  const scale = shape.size / SPRITE_FONT_SIZE;
  const sx = scale * shape.stretch;
  const cos = Math.cos(shape.rotation);
  const sin = Math.sin(shape.rotation);
  // Columns: where the sprite's x and y axes go. [a c; b d] as in canvas transform().
  return [cos * sx, sin * sx, (cos * shape.shear - sin) * scale, (sin * shape.shear + cos) * scale];
}

function measureShape(shape: Shape): MeasuredShape {
  const points = glyphSprite(shape.family, shape.drawn).edgePoints;
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
  return { ...shape, minX, maxX, minY, maxY };
}

/** The same shape at a size that scales its extents by `factor` (extents are linear in size). */
function resized(shape: MeasuredShape, factor: number): MeasuredShape {
  return measureShape({ ...shape, size: shape.size * factor });
}

/** Fixed-point phase: 2^24 steps per turn, so the top 8 bits index the sine table. */
const PHASE_BITS = 24;
const TURN = 2 ** PHASE_BITS;

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
    const lower = options.lowerCaseLetters.includes(character) && random.float() < options.lowerCaseShare;
    const measured = measureShape({
      drawn: lower ? character.toLowerCase() : character,
      family: pick(random, options.fontFamilies),
      // Lower-case forms are drawn larger so their x-height matches the capitals around them.
      size: between(random, options.fontSizeMin, options.fontSizeMax) * (lower ? LOWER_CASE_SCALE : 1),
      rotation: between(random, -maxRotation, maxRotation),
      shear: between(random, -options.maxShear, options.maxShear),
      stretch: between(random, options.stretchMin, options.stretchMax),
    });
    const tall = measured.maxY - measured.minY;
    return tall <= verticalRoom ? measured : resized(measured, verticalRoom / tall);
  });
  const spacings = shapes.slice(1).map(() => between(random, options.spacingMin, options.spacingMax));
  const centreOffsets = (list: readonly MeasuredShape[]): number[] => {
    const offsets = [0];
    for (let i = 1; i < list.length; i += 1) {
      const previous = list[i - 1] as MeasuredShape;
      const current = list[i] as MeasuredShape;
      offsets.push((offsets[i - 1] as number) + (previous.maxX - current.minX) * (spacings[i - 1] as number));
    }
    return offsets;
  };
  const extent = (list: readonly MeasuredShape[], offsets: readonly number[]): { left: number; right: number } => {
    let left = Infinity;
    let right = -Infinity;
    list.forEach((s, i) => {
      left = Math.min(left, (offsets[i] as number) + s.minX);
      right = Math.max(right, (offsets[i] as number) + s.maxX);
    });
    return { left, right };
  };
  let offsets = centreOffsets(shapes);
  let { left, right } = extent(shapes, offsets);
  if (right - left > horizontalRoom) {
    const factor = horizontalRoom / (right - left);
    shapes = shapes.map((s) => resized(s, factor));
    offsets = centreOffsets(shapes);
    ({ left, right } = extent(shapes, offsets));
  }
  const startX = margin + Math.max(0, horizontalRoom - (right - left)) * random.float() - left;
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
    const centreY = Math.min(Math.max(wanted, top), Math.max(top, bottom));
    const reach = margin - EDGE_MARGIN;
    return {
      character: answer[i] as string,
      drawn: shape.drawn,
      family: shape.family,
      size: shape.size,
      centreX,
      centreY,
      rotation: shape.rotation,
      shear: shape.shear,
      stretch: shape.stretch,
      box: {
        left: centreX + shape.minX - reach,
        right: centreX + shape.maxX + reach,
        top: centreY + shape.minY - reach,
        bottom: centreY + shape.maxY + reach,
      },
    };
  });
  return { ...colours, glyphs, warp: planWarp(options, random) };
}

// ---------------------------------------------------------------------------------
// Painting

/** Straight pieces per noise curve: enough that a person sees a smooth line. */
const CURVE_STEPS = 27;

/**
 * Draws the noise curves and arcs as ink coverage on an alpha-only (A8) canvas: every
 * pixel holds how much ink covers it, 0-255, anti-aliasing included.
 */
function paintNoise(ctx: CanvasRenderingContext2D, options: RenderOptions, plan: CaptchaPlan, random: RandomSource): void {
  const { width, height } = options;
  ctx.globalCompositeOperation = 'source-over';
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.strokeStyle = '#000';
  // Curves wander through the band the glyphs occupy, from edge to edge.
  const bandTop = Math.min(...plan.glyphs.map((g) => g.box.top));
  const bandBottom = Math.max(...plan.glyphs.map((g) => g.box.bottom));
  const inBand = (): number => between(random, bandTop, bandBottom);
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.lineWidth = options.textCurveWidth;
  for (let i = 0; i < options.textCurves; i += 1) {
    // A cubic from edge to edge through the band, rippled like the glyphs' warp so that
    // its bends do not tell it apart from a stroke.
    const y0 = between(random, 0, height);
    const y1 = inBand();
    const y2 = inBand();
    const y3 = between(random, 0, height);
    const wavelength = between(random, options.warpWavelengthMin, options.warpWavelengthMax);
    const phase = between(random, 0, 2 * Math.PI);
    ctx.beginPath();
    for (let step = 0; step <= CURVE_STEPS; step += 1) {
      const t = step / CURVE_STEPS;
      const u = 1 - t;
      const x = t * width;
      const y = u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3 + options.warpAmplitude * Math.sin((2 * Math.PI * x) / wavelength + phase);
      if (step === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.stroke();
  }
  for (let i = 0; i < options.arcs; i += 1) {
    ctx.lineWidth = between(random, 1, 2.5);
    const start = between(random, 0, 2 * Math.PI);
    ctx.beginPath();
    ctx.arc(between(random, 0, width), between(random, 0, height), between(random, 3, 9), start, start + between(random, 1, 3));
    ctx.stroke();
  }
}

/** Coverage 0-255 to a ramp step, rounded. */
const COVERAGE_STEP = Uint8Array.from({ length: 256 }, (_, coverage) => Math.round((coverage * (COVERAGE_LEVELS - 1)) / 255));

/** For each column of an image width, the palette index where its band's ramp starts. */
const bandStartsByWidth = new Map<number, Uint8Array>();

function bandStarts(width: number): Uint8Array {
  let starts = bandStartsByWidth.get(width);
  if (!starts) {
    starts = Uint8Array.from({ length: width }, (_, x) => Math.floor((x * COLOUR_BANDS) / width) * COVERAGE_LEVELS);
    bandStartsByWidth.set(width, starts);
  }
  return starts;
}

const sineTables = new Map<number, Float64Array>();

/** Displacement in pixels for each of 256 phases, for one amplitude. */
function sineTable(amplitude: number): Float64Array {
  let table = sineTables.get(amplitude);
  if (!table) {
    table = Float64Array.from({ length: 256 }, (_, k) => amplitude * Math.sin((2 * Math.PI * k) / 256));
    sineTables.set(amplitude, table);
  }
  return table;
}

/** What sampling one glyph needs: its inverse transform and its sprite's alpha map. */
interface GlyphSampler {
  centreX: number;
  centreY: number;
  /** Inverse of the glyph matrix: image offset from the centre to sprite offset. */
  ia: number;
  ib: number;
  ic: number;
  id: number;
  /** Sprite offset to alpha-map coordinates (pixel centres at whole numbers). */
  offsetU: number;
  offsetV: number;
  width: number;
  height: number;
  alpha: Uint8Array;
}

function glyphSampler(glyph: GlyphPlan): GlyphSampler {
  const sprite = glyphSprite(glyph.family, glyph.drawn);
  const [a, b, c, d] = glyphMatrix(glyph);
  const determinant = a * d - b * c;
  return {
    centreX: glyph.centreX,
    centreY: glyph.centreY,
    ia: d / determinant,
    ib: -b / determinant,
    ic: -c / determinant,
    id: a / determinant,
    offsetU: sprite.width / 2 - 0.5,
    offsetV: sprite.height / 2 - 0.5,
    width: sprite.width,
    height: sprite.height,
    alpha: sprite.alpha,
  };
}

/** Scratch buffer for glyph coverage, one per image size; painting is synchronous. */
const inkBuffers = new Map<number, Float32Array>();

/**
 * Composes the image's palette indices, in place over the noise coverage. Glyphs are
 * not drawn by canvas: each pixel of a glyph's box is moved by the warp, mapped back
 * through the glyph's transform and its sprite sampled there bilinearly, so one step
 * does transform and warp (cheaper than cairo drawing transformed images and a second
 * pass warping them). Coverage from overlapping glyphs and from the noise adds like ink
 * laid on ink (source-over); the last pass turns coverage into palette indices.
 */
function composeIndices(clamped: Uint8ClampedArray, width: number, height: number, plan: CaptchaPlan): void {
  // A plain byte view: stores into a clamped array cost a range check each.
  const pixels = new Uint8Array(clamped.buffer, clamped.byteOffset, clamped.length);
  let ink = inkBuffers.get(width * height);
  if (!ink) {
    ink = new Float32Array(width * height);
    inkBuffers.set(width * height, ink);
  }
  ink.fill(0);
  const { warp } = plan;
  const table = sineTable(warp.amplitude);
  const shift = PHASE_BITS - 8;
  const mask = TURN - 1;
  const stepX = warp.dx.stepX;
  const stepY = warp.dy.stepX;
  for (const glyph of plan.glyphs) {
    const { alpha, ia, ib, ic, id, offsetU, offsetV, centreX, centreY, width: spriteWidth, height: spriteHeight } = glyphSampler(glyph);
    const maxU = spriteWidth - 1;
    const maxV = spriteHeight - 1;
    const x0 = Math.max(0, Math.floor(glyph.box.left));
    const x1 = Math.min(width - 1, Math.ceil(glyph.box.right));
    const y0 = Math.max(0, Math.floor(glyph.box.top));
    const y1 = Math.min(height - 1, Math.ceil(glyph.box.bottom));
    for (let y = y0; y <= y1; y += 1) {
      let phaseX = (warp.dx.offset + y * warp.dx.stepY + x0 * stepX) & mask;
      let phaseY = (warp.dy.offset + y * warp.dy.stepY + x0 * stepY) & mask;
      const oy = y + 0.5 - centreY;
      for (let x = x0, i = y * width + x0; x <= x1; x += 1, i += 1) {
        const ox = x + 0.5 + (table[phaseX >> shift] as number) - centreX;
        const wy = oy + (table[phaseY >> shift] as number);
        phaseX = (phaseX + stepX) & mask;
        phaseY = (phaseY + stepY) & mask;
        const u = ia * ox + ic * wy + offsetU;
        const v = ib * ox + id * wy + offsetV;
        if (u < 0 || v < 0 || u >= maxU || v >= maxV) continue;
        const iu = u | 0;
        const iv = v | 0;
        const fu = u - iu;
        const at = iv * spriteWidth + iu;
        const a00 = alpha[at] as number;
        const a01 = alpha[at + spriteWidth] as number;
        const upper = a00 + ((alpha[at + 1] as number) - a00) * fu;
        const lower = a01 + ((alpha[at + spriteWidth + 1] as number) - a01) * fu;
        const sample = upper + (lower - upper) * (v - iv);
        const under = ink[i] as number;
        ink[i] = under + sample - (under * sample) / 255;
      }
    }
  }
  const starts = bandStarts(width);
  for (let y = 0, i = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1, i += 1) {
      const glyphInk = ink[i] as number;
      const noise = pixels[i] as number;
      const coverage = (glyphInk + noise - (glyphInk * noise) / 255 + 0.5) | 0;
      pixels[i] = (starts[x] as number) + (COVERAGE_STEP[coverage] as number);
    }
  }
}

/** Palette entry band * COVERAGE_LEVELS + step: the band's background mixed with its ink. */
function palette(plan: ColourPlan): Uint8ClampedArray {
  const { background, ink } = bandColours(plan);
  const entries = new Uint8ClampedArray(COLOUR_BANDS * COVERAGE_LEVELS * 4);
  for (let band = 0, at = 0; band < COLOUR_BANDS; band += 1) {
    const from = background[band] as Rgb;
    const to = ink[band] as Rgb;
    for (let step = 0; step < COVERAGE_LEVELS; step += 1, at += 4) {
      const t = step / (COVERAGE_LEVELS - 1);
      // The ends (t = 0 and 1) are the exact band colours the contrast checks use.
      entries[at] = from[0] + (to[0] - from[0]) * t;
      entries[at + 1] = from[1] + (to[1] - from[1]) * t;
      entries[at + 2] = from[2] + (to[2] - from[2]) * t;
      entries[at + 3] = 255;
    }
  }
  return entries;
}

/**
 * Paints a captcha into an A8 canvas as palette indices and returns the palette that
 * colours them: the PNG is then 8-bit indexed, a quarter of the raw data of RGBA and far
 * fewer distinct values, so it is both smaller and faster to compress.
 */
function paintCaptcha(canvas: Canvas, answer: string, options: RenderOptions, random: RandomSource): Uint8ClampedArray {
  const { width, height } = options;
  const plan = planCaptcha(answer, options, random);
  const ctx = canvas.getContext('2d', { pixelFormat: 'A8' });
  paintNoise(ctx, options, plan, random);
  const image = ctx.getImageData(0, 0, width, height);
  const pixels = image.data;
  // Dots are whole pixels of full ink, set here rather than drawn: a canvas call each costs more.
  for (let i = 0; i < options.dots; i += 1) {
    const x = random.int(width - 1);
    const y = random.int(height - 1);
    const size = random.float() < 0.5 ? 1 : 2;
    for (let dy = 0; dy < size; dy += 1) pixels.fill(255, (y + dy) * width + x, (y + dy) * width + x + size);
  }
  composeIndices(pixels, width, height, plan);
  ctx.putImageData(image, 0, 0);
  return palette(plan);
}

function pngConfig(options: RenderOptions, colours: Uint8ClampedArray): PngConfig {
  return {
    compressionLevel: options.pngCompressionLevel as PngConfig['compressionLevel'],
    filters: Canvas.PNG_FILTER_NONE,
    palette: colours,
  };
}

/**
 * Canvases waiting to be drawn on again. The async encoder reads a canvas on another
 * thread, so a canvas returns here only once its PNG is done; a few dozen cover any
 * realistic number of encodes in flight.
 */
const idleCanvases: Canvas[] = [];
const MAX_IDLE_CANVASES = 32;

function takeCanvas(width: number, height: number): Canvas {
  const idle = idleCanvases.pop();
  if (idle?.width === width && idle.height === height) return idle;
  const canvas = createCanvas(width, height);
  // The pixel format is fixed by the first getContext call.
  canvas.getContext('2d', { pixelFormat: 'A8' });
  return canvas;
}

function returnCanvas(canvas: Canvas): void {
  if (idleCanvases.length < MAX_IDLE_CANVASES) idleCanvases.push(canvas);
}

/** Draws and encodes a captcha; the PNG encoding runs on libuv's thread pool. */
export function renderCaptcha(answer: string, options: RenderOptions, random: RandomSource): Promise<Buffer> {
  const canvas = takeCanvas(options.width, options.height);
  const colours = paintCaptcha(canvas, answer, options, random);
  return new Promise((resolve, reject) => {
    canvas.toBuffer(
      (error, png) => {
        returnCanvas(canvas);
        if (error) reject(error);
        else resolve(png);
      },
      'image/png',
      pngConfig(options, colours),
    );
  });
}

/** Synchronous variant for scripts and benchmarks; blocks the event loop while encoding. */
export function renderCaptchaSync(answer: string, options: RenderOptions, random: RandomSource): Buffer {
  const canvas = takeCanvas(options.width, options.height);
  const png = canvas.toBuffer('image/png', pngConfig(options, paintCaptcha(canvas, answer, options, random)));
  returnCanvas(canvas);
  return png;
}
