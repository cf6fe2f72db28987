/**
 * The captcha renderer's options: what each one means, its default and its allowed
 * range. Read once and validated when the app is built (createCaptcha), so a bad value
 * fails at start with a message that names it, never while drawing.
 */
import { CAPTCHA_FONT_FAMILIES } from './fonts.js';

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
   * Narrowest clear gap between neighbouring glyphs, in pixels, between the boxes their
   * ink can reach after the warp: glyphs never touch, so no stroke of one can be read as
   * part of the next (people misread touching M/N/W and K/X/Y clusters).
   */
  glyphGapMin: number;
  /** Widest clear gap between neighbouring glyphs, in pixels, before fitting. */
  glyphGapMax: number;
  /** Largest rise or fall of the wavy baseline the glyph centres follow, in pixels. */
  baselineAmplitude: number;
  /** Shortest wavelength of the baseline wave, in pixels. */
  baselineWavelengthMin: number;
  /** Longest wavelength of the baseline wave, in pixels. */
  baselineWavelengthMax: number;
  /** Largest extra up-or-down shift of a single glyph off the baseline, in pixels. */
  verticalJitter: number;
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
  /** Pale, smaller letters of the answer alphabet beside the answer (never on it), in the noise's ink. */
  decoys: number;
  /**
   * Strength of the noise's ink, as a share of the glyphs' full ink (0-1): below 1 the
   * curves, arcs and dots are a paler shade of the ink, so a person tells them from the
   * strokes of a letter (same-ink curves were read as crossbars).
   */
  noiseInk: number;
  /**
   * zlib level for the PNG. It changes the file's size and the time to encode it, never
   * its pixels: 1 encodes about 5 % faster than 3 for files 5 % larger (4.6 KB).
   */
  pngCompressionLevel: number;
}

export const DEFAULT_RENDER_OPTIONS: Readonly<RenderOptions> = Object.freeze({
  width: 270,
  height: 40,
  fontFamilies: CAPTCHA_FONT_FAMILIES,
  fontSizeMin: 28,
  fontSizeMax: 34,
  maxRotationDegrees: 15,
  maxShear: 0.15,
  stretchMin: 1.05,
  stretchMax: 1.35,
  glyphGapMin: 2,
  glyphGapMax: 10,
  baselineAmplitude: 4,
  baselineWavelengthMin: 80,
  baselineWavelengthMax: 200,
  verticalJitter: 2,
  warpAmplitude: 2,
  warpWavelengthMin: 45,
  warpWavelengthMax: 90,
  textCurves: 3,
  textCurveWidth: 2,
  arcs: 3,
  dots: 20,
  decoys: 5,
  noiseInk: 0.35,
  pngCompressionLevel: 1,
});

type NumericOption = Exclude<keyof RenderOptions, 'fontFamilies'>;

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
  glyphGapMin: { min: 0, max: 50, integer: false },
  glyphGapMax: { min: 0, max: 50, integer: false },
  baselineAmplitude: { min: 0, max: 100, integer: false },
  baselineWavelengthMin: { min: 10, max: 5000, integer: false },
  baselineWavelengthMax: { min: 10, max: 5000, integer: false },
  verticalJitter: { min: 0, max: 100, integer: false },
  warpAmplitude: { min: 0, max: 10, integer: false },
  warpWavelengthMin: { min: 4, max: 5000, integer: false },
  warpWavelengthMax: { min: 4, max: 5000, integer: false },
  textCurves: { min: 0, max: 20, integer: true },
  textCurveWidth: { min: 0.5, max: 10, integer: false },
  arcs: { min: 0, max: 1000, integer: true },
  dots: { min: 0, max: 5000, integer: true },
  decoys: { min: 0, max: 50, integer: true },
  noiseInk: { min: 0, max: 1, integer: false },
  pngCompressionLevel: { min: 0, max: 9, integer: true },
};

const MIN_MAX_PAIRS: ReadonlyArray<readonly [NumericOption, NumericOption]> = [
  ['fontSizeMin', 'fontSizeMax'],
  ['stretchMin', 'stretchMax'],
  ['glyphGapMin', 'glyphGapMax'],
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
  if (merged.fontSizeMin > merged.height) {
    throw new RangeError(`render option fontSizeMin (${merged.fontSizeMin}) exceeds height (${merged.height})`);
  }
  return merged;
}
