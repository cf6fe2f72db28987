/**
 * The captcha's noise: curves across the text band, short open arcs and dots, laid as ink
 * coverage (0-255, anti-aliased) into the buffer the glyphs are then composed over.
 *
 * Why not canvas strokes: cairo's stroker and rasterizer took about 50 µs per rippled
 * curve here, a fifth of a whole picture's time, while these shapes have closed forms.
 * A curve is y = f(x) from edge to edge, so one pass over the columns draws it: each
 * column covers the rows its band of the stroke's width crosses (the band is taller
 * where the curve is steep), with partly covered rows getting the covered fraction. An
 * arc is a ring segment with round caps: coverage falls off over one pixel around its
 * distance. Both match cairo's strokes within a fraction of a pixel, which is all that
 * anti-aliasing needs. All noise is a paler shade of the glyphs' ink
 * (RenderOptions.noiseInk), and the glyphs are laid over it.
 */
import type { Box } from './plan.js';
import { between, type RandomSource } from './random.js';
import type { RenderOptions } from './render-options.js';

/** Ink coverage per pixel, 0-255, row after row. */
export interface InkLayer {
  ink: Float32Array;
  width: number;
  height: number;
}

/**
 * Lays `coverage` (0-1) on the pixel at index i. Where strokes cross, the stronger one
 * shows rather than the two adding up, so no noise pixel is ever darker than the
 * noise's own ink and a person can always tell noise from a letter's stroke.
 */
function lay(layer: InkLayer, i: number, coverage: number): void {
  layer.ink[i] = Math.max(layer.ink[i] as number, 255 * coverage);
}

/**
 * A cubic Bézier in y from edge to edge (x runs linearly with t) plus a sine ripple, so
 * that the curve bends like the warped glyph strokes around it.
 */
export interface Curve {
  y0: number;
  y1: number;
  y2: number;
  y3: number;
  lineWidth: number;
  /** Full coverage of the stroke, 0-1 (RenderOptions.noiseInk). */
  strength: number;
  rippleAmplitude: number;
  rippleWavelength: number;
  ripplePhase: number;
}

export function strokeCurve(layer: InkLayer, curve: Curve): void {
  const { width, height } = layer;
  const { y0, y1, y2, y3, lineWidth, strength, rippleAmplitude, rippleWavelength, ripplePhase } = curve;
  const angularFrequency = (2 * Math.PI) / rippleWavelength;
  // The ripple's angle grows by the same step every column, so its sine and cosine follow
  // by rotation instead of two Math calls per column.
  const stepCos = Math.cos(angularFrequency);
  const stepSin = Math.sin(angularFrequency);
  let sin = Math.sin(angularFrequency * 0.5 + ripplePhase);
  let cos = Math.cos(angularFrequency * 0.5 + ripplePhase);
  for (let column = 0; column < width; column += 1) {
    const x = column + 0.5;
    const t = x / width;
    const u = 1 - t;
    const y = u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3 + rippleAmplitude * sin;
    const slope =
      (3 * (u * u * (y1 - y0) + 2 * u * t * (y2 - y1) + t * t * (y3 - y2))) / width + rippleAmplitude * angularFrequency * cos;
    const nextSin = sin * stepCos + cos * stepSin;
    cos = cos * stepCos - sin * stepSin;
    sin = nextSin;
    const half = (lineWidth * Math.sqrt(1 + slope * slope)) / 2;
    const top = y - half;
    const bottom = y + half;
    const lastRow = Math.min(height - 1, Math.ceil(bottom) - 1);
    for (let row = Math.max(0, Math.floor(top)); row <= lastRow; row += 1) {
      const covered = Math.min(bottom, row + 1) - Math.max(top, row);
      if (covered > 0) lay(layer, row * width + column, strength * Math.min(1, covered));
    }
  }
}

/** An open arc of a circle, clockwise from `start` through `sweep` radians (at most pi), round caps. */
export interface Arc {
  centreX: number;
  centreY: number;
  radius: number;
  start: number;
  sweep: number;
  lineWidth: number;
  /** Full coverage of the stroke, 0-1. */
  strength: number;
}

/** Math.hypot guards against overflow, which these small values never need, at several times the cost. */
const length = (x: number, y: number): number => Math.sqrt(x * x + y * y);

export function strokeArc(layer: InkLayer, arc: Arc): void {
  const { width, height } = layer;
  const { centreX, centreY, radius, start, sweep, lineWidth, strength } = arc;
  // The angle test below holds only for arcs up to half a turn.
  if (!(sweep >= 0 && sweep <= Math.PI)) throw new RangeError(`arc sweep must be 0 to pi radians, got ${sweep}`);
  const fromX = Math.cos(start);
  const fromY = Math.sin(start);
  const toX = Math.cos(start + sweep);
  const toY = Math.sin(start + sweep);
  const reach = lineWidth / 2 + 0.5;
  const extent = radius + reach;
  const left = Math.max(0, Math.floor(centreX - extent));
  const right = Math.min(width - 1, Math.ceil(centreX + extent));
  const top = Math.max(0, Math.floor(centreY - extent));
  const bottom = Math.min(height - 1, Math.ceil(centreY + extent));
  for (let row = top; row <= bottom; row += 1) {
    const dy = row + 0.5 - centreY;
    for (let column = left; column <= right; column += 1) {
      const dx = column + 0.5 - centreX;
      // With sweep <= pi, a point lies within the arc's angles when it is clockwise of
      // the start direction and anticlockwise of the end direction.
      const within = fromX * dy - fromY * dx >= 0 && dx * toY - dy * toX >= 0;
      const distance = within ? Math.abs(length(dx, dy) - radius) : Math.min(length(dx - radius * fromX, dy - radius * fromY), length(dx - radius * toX, dy - radius * toY));
      const coverage = reach - distance;
      if (coverage > 0) lay(layer, row * width + column, strength * Math.min(1, coverage));
    }
  }
}

/**
 * Lays the noise for one picture. Curves wander through the band the glyphs occupy
 * (`glyphBoxes`), from edge to edge, so they cross the text; arcs and dots go anywhere.
 */
export function paintNoise(layer: InkLayer, glyphBoxes: readonly Box[], options: RenderOptions, random: RandomSource): void {
  const { width, height } = layer;
  const bandTop = Math.min(...glyphBoxes.map((box) => box.top));
  const bandBottom = Math.max(...glyphBoxes.map((box) => box.bottom));
  for (let i = 0; i < options.textCurves; i += 1) {
    strokeCurve(layer, {
      y0: between(random, 0, height),
      y1: between(random, bandTop, bandBottom),
      y2: between(random, bandTop, bandBottom),
      y3: between(random, 0, height),
      lineWidth: options.textCurveWidth,
      strength: options.noiseInk,
      rippleAmplitude: options.warpAmplitude,
      rippleWavelength: between(random, options.warpWavelengthMin, options.warpWavelengthMax),
      ripplePhase: between(random, 0, 2 * Math.PI),
    });
  }
  for (let i = 0; i < options.arcs; i += 1) {
    const lineWidth = between(random, 1, 2.5);
    const start = between(random, 0, 2 * Math.PI);
    strokeArc(layer, {
      lineWidth,
      strength: options.noiseInk,
      start,
      centreX: between(random, 0, width),
      centreY: between(random, 0, height),
      radius: between(random, 3, 9),
      sweep: between(random, 1, 3),
    });
  }
  // Dots are whole pixels of the noise's ink.
  const dotInk = 255 * options.noiseInk;
  for (let i = 0; i < options.dots; i += 1) {
    const x = random.int(width - 1);
    const y = random.int(height - 1);
    const size = random.float() < 0.5 ? 1 : 2;
    for (let dy = 0; dy < size; dy += 1) layer.ink.fill(dotInk, (y + dy) * width + x, (y + dy) * width + x + size);
  }
}
