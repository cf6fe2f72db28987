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
 * Steps: planCaptcha() (plan.ts) decides colours, per-glyph geometry and the warp, then
 * this module paints the plan and the noise. Both take from the same RandomSource in a
 * fixed order. Options are defined and validated in render-options.ts.
 */
import { Canvas, createCanvas, type CanvasRenderingContext2D, type PngConfig } from 'canvas';
import { COLOUR_BANDS, COVERAGE_LEVELS, PHASE_BITS, TURN, bandColours, glyphMatrix, planCaptcha, type CaptchaPlan, type ColourPlan, type GlyphPlan } from './plan.js';
import type { Rgb } from './colour.js';
import { between, type RandomSource } from './random.js';
import type { RenderOptions } from './render-options.js';
import { glyphSprite } from './sprites.js';

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
