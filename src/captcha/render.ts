/**
 * Captcha image renderer: answer + options + random source in, PNG out. Pure: no I/O,
 * no clock, no Math.random, so a seeded RandomSource gives byte-identical images.
 *
 * Model. People come first: a login picture that one visitor in four misreads is broken,
 * whatever it does to bots, and blind panels showed what people misread: touching and
 * overlapping glyphs, script lower-case forms and noise curves in the glyphs' own ink.
 * So every answer character stands apart (a clear gap between the boxes its ink can
 * reach, warp included), upper case, in one of six plain-to-rough fonts, rotated,
 * sheared, stretched and bent by a smooth local warp on its own; the noise (curves,
 * arcs, dots and small decoy letters of the same alphabet) is a paler shade of the ink
 * that never gets darker where strokes cross, so a person tells it from a letter at
 * once. What a trained reader still has to learn: every font, pose and warp of every
 * character, and to ignore letter-shaped ink that is paler.
 *
 * Pixels. Everything is ink coverage in one buffer: the noise (noise.ts) first, then the
 * decoys and glyphs, sampled from sprites that canvas drew once per font and character, through
 * their transform and the warp in one JavaScript pass each (sampleGlyph), which costs less
 * than cairo drawing transformed images. Canvas then stores the result, through an
 * alpha-only (A8) canvas, as an 8-bit indexed PNG whose palette holds,
 * for each of COLOUR_BANDS column bands, a ramp from that band's background colour to
 * its ink colour. So the image has exactly the colours the plan says (the contrast
 * guarantee is checked on them, see colour.ts), and the PNG is a quarter of the raw data
 * of RGBA: smaller and faster to compress.
 *
 * Steps: planCaptcha() (plan.ts) decides colours, per-glyph geometry and the warp, then
 * this module paints the plan and the noise. Both take from the same RandomSource in a
 * fixed order. Options are defined and validated in render-options.ts.
 */
import { Canvas, createCanvas, type ImageData, type PngConfig } from 'canvas';
import { COLOUR_BANDS, COVERAGE_LEVELS, PHASE_BITS, TURN, bandColours, glyphMatrix, planCaptcha, type CaptchaPlan, type ColourPlan, type GlyphPlan, type WarpPlan } from './plan.js';
import type { Rgb } from './colour.js';
import { paintNoise, type InkLayer } from './noise.js';
import type { RandomSource } from './random.js';
import type { RenderOptions } from './render-options.js';
import { glyphSprite } from './sprites.js';

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
  const sprite = glyphSprite(glyph.family, glyph.character);
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

/**
 * Samples one glyph into `layer`. Glyphs are not drawn by canvas: each pixel of the
 * glyph's box is moved by the warp, mapped back through the glyph's transform and its
 * sprite sampled there bilinearly, so one step does transform and warp (cheaper than
 * cairo drawing transformed images and a second pass warping them). An answer glyph
 * (strength 1) adds to what is under it like ink laid on ink (source-over); a decoy
 * (strength below 1) is laid like the rest of the noise, never darker than its strength.
 */
function sampleGlyph(layer: InkLayer, glyph: GlyphPlan, warp: WarpPlan, strength: number): void {
  const { ink, width, height } = layer;
  const table = sineTable(warp.amplitude);
  const shift = PHASE_BITS - 8;
  const mask = TURN - 1;
  const stepX = warp.dx.stepX;
  const stepY = warp.dy.stepX;
  const pale = strength < 1;
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
      ink[i] = pale ? Math.max(under, sample * strength) : under + sample - (under * sample) / 255;
    }
  }
}

/**
 * Composes decoys and glyphs over the noise in `layer` and writes the image's palette
 * indices to `indices`: the last pass turns coverage into palette indices.
 */
function composeIndices(layer: InkLayer, indices: Uint8ClampedArray, plan: CaptchaPlan, options: RenderOptions): void {
  const { ink, width, height } = layer;
  // A plain byte view: stores into a clamped array cost a range check each.
  const out = new Uint8Array(indices.buffer, indices.byteOffset, indices.length);
  for (const decoy of plan.decoys) sampleGlyph(layer, decoy, plan.warp, options.noiseInk);
  for (const glyph of plan.glyphs) sampleGlyph(layer, glyph, plan.warp, 1);
  const starts = bandStarts(width);
  for (let y = 0, i = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1, i += 1) {
      out[i] = (starts[x] as number) + (COVERAGE_STEP[((ink[i] as number) + 0.5) | 0] as number);
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

/** Scratch ink buffers, one per image size: painting is synchronous, so one is enough. */
const inkBuffers = new Map<number, Float32Array>();

function inkLayer(width: number, height: number): InkLayer {
  let ink = inkBuffers.get(width * height);
  if (ink) ink.fill(0);
  else {
    ink = new Float32Array(width * height);
    inkBuffers.set(width * height, ink);
  }
  return { ink, width, height };
}

/**
 * Paints a captcha into an A8 canvas as palette indices and returns the palette that
 * colours them: the PNG is then 8-bit indexed, a quarter of the raw data of RGBA and far
 * fewer distinct values, so it is both smaller and faster to compress.
 */
function paintCaptcha(target: PooledCanvas, answer: string, options: RenderOptions, random: RandomSource): Uint8ClampedArray {
  const plan = planCaptcha(answer, options, random);
  const layer = inkLayer(options.width, options.height);
  paintNoise(
    layer,
    plan.glyphs.map((glyph) => glyph.box),
    options,
    random,
  );
  composeIndices(layer, target.indices.data, plan, options);
  target.canvas.getContext('2d', { pixelFormat: 'A8' }).putImageData(target.indices, 0, 0);
  return palette(plan);
}

function pngConfig(options: RenderOptions, colours: Uint8ClampedArray): PngConfig {
  return {
    compressionLevel: options.pngCompressionLevel as PngConfig['compressionLevel'],
    filters: Canvas.PNG_FILTER_NONE,
    palette: colours,
  };
}

/** An A8 canvas and the image data its palette indices are written through. */
interface PooledCanvas {
  canvas: Canvas;
  indices: ImageData;
}

/**
 * Canvases waiting to be drawn on again. The async encoder reads a canvas on another
 * thread, so a canvas returns here only once its PNG is done; a few dozen cover any
 * realistic number of encodes in flight.
 */
const idleCanvases: PooledCanvas[] = [];
const MAX_IDLE_CANVASES = 32;

function takeCanvas(width: number, height: number): PooledCanvas {
  const idle = idleCanvases.pop();
  if (idle?.canvas.width === width && idle.canvas.height === height) return idle;
  const canvas = createCanvas(width, height);
  // The pixel format is fixed by the first getContext call. An A8 canvas' image data
  // holds one byte per pixel, which is what an indexed PNG stores.
  const indices = canvas.getContext('2d', { pixelFormat: 'A8' }).getImageData(0, 0, width, height);
  return { canvas, indices };
}

function returnCanvas(pooled: PooledCanvas): void {
  if (idleCanvases.length < MAX_IDLE_CANVASES) idleCanvases.push(pooled);
}

/** Draws and encodes a captcha; the PNG encoding runs on libuv's thread pool. */
export function renderCaptcha(answer: string, options: RenderOptions, random: RandomSource): Promise<Buffer> {
  const pooled = takeCanvas(options.width, options.height);
  const colours = paintCaptcha(pooled, answer, options, random);
  return new Promise((resolve, reject) => {
    pooled.canvas.toBuffer(
      (error, png) => {
        returnCanvas(pooled);
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
  const pooled = takeCanvas(options.width, options.height);
  const png = pooled.canvas.toBuffer('image/png', pngConfig(options, paintCaptcha(pooled, answer, options, random)));
  returnCanvas(pooled);
  return png;
}
