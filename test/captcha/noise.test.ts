import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { paintNoise, strokeArc, strokeCurve, type Arc, type Curve, type InkLayer } from '../../src/captcha/noise.js';
import { seededRandom } from '../../src/captcha/random.js';
import { validateRenderOptions } from '../../src/captcha/render-options.js';

const WIDTH = 270;
const HEIGHT = 40;

function blankLayer(): InkLayer {
  return { ink: new Float32Array(WIDTH * HEIGHT), width: WIDTH, height: HEIGHT };
}

const inkAt = (layer: InkLayer, x: number, y: number): number => (layer.ink[y * WIDTH + x] as number) / 255;

/** Ink in one column, in pixels of full coverage. */
function columnInk(layer: InkLayer, x: number): number {
  let sum = 0;
  for (let y = 0; y < HEIGHT; y += 1) sum += inkAt(layer, x, y);
  return sum;
}

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

const straight = (y: number, lineWidth: number): Curve => ({
  y0: y,
  y1: y,
  y2: y,
  y3: y,
  lineWidth,
  strength: 1,
  rippleAmplitude: 0,
  rippleWavelength: 50,
  ripplePhase: 0,
});

describe('strokeCurve', () => {
  it('anti-aliases a level line by the share of each row it covers', () => {
    const layer = blankLayer();
    strokeCurve(layer, straight(20.3, 2)); // covers y 19.3 to 21.3
    for (const x of [0, 100, WIDTH - 1]) {
      assertClose(inkAt(layer, x, 18), 0, 0, `row 18, column ${x}`);
      assertClose(inkAt(layer, x, 19), 0.7, 1e-5, `row 19, column ${x}`);
      assertClose(inkAt(layer, x, 20), 1, 1e-5, `row 20, column ${x}`);
      assertClose(inkAt(layer, x, 21), 0.3, 1e-5, `row 21, column ${x}`);
      assertClose(inkAt(layer, x, 22), 0, 0, `row 22, column ${x}`);
    }
  });

  it('keeps the stroke width across slopes: each column holds width x sqrt(1 + slope^2) of ink', () => {
    const layer = blankLayer();
    // y = 5 + 30 x / WIDTH plus a ripple: the Bezier's control points on a straight line.
    const curve: Curve = { y0: 5, y1: 15, y2: 25, y3: 35, lineWidth: 2, strength: 1, rippleAmplitude: 2, rippleWavelength: 60, ripplePhase: 1 };
    strokeCurve(layer, curve);
    for (let x = 0; x < WIDTH; x += 1) {
      const centre = x + 0.5;
      const slope = 30 / WIDTH + ((2 * 2 * Math.PI) / 60) * Math.cos((2 * Math.PI * centre) / 60 + 1);
      assertClose(columnInk(layer, x), 2 * Math.sqrt(1 + slope * slope), 1e-4, `column ${x}`);
    }
  });

  it('clips at the image edges without wrapping into other rows', () => {
    const layer = blankLayer();
    strokeCurve(layer, straight(0.5, 2)); // half the stroke lies above the image
    for (const x of [0, 135, WIDTH - 1]) {
      assertClose(columnInk(layer, x), 1.5, 1e-5, `column ${x}`);
      assertClose(inkAt(layer, x, HEIGHT - 1), 0, 0, `bottom row, column ${x}`);
    }
  });
});

describe('strokeArc', () => {
  const arc: Arc = { centreX: 100, centreY: 20, radius: 8, start: 0, sweep: Math.PI / 2, lineWidth: 2, strength: 1 };

  it('inks the ring between its start and end angles, with round caps, and nothing elsewhere', () => {
    const layer = blankLayer();
    strokeArc(layer, arc);
    // start 0 points right, a quarter turn clockwise (y down) ends pointing down.
    // Pixel centres sit at +0.5, so these lie within half a pixel of the ring.
    assertClose(inkAt(layer, 100 + 7, 20), 1, 0.05, 'ring at the start angle');
    assertClose(inkAt(layer, 100 + 5, 20 + 5), 1, 0.05, 'ring half-way (45 degrees)');
    assertClose(inkAt(layer, 100, 20 + 7), 1, 0.05, 'ring at the end angle');
    assertClose(inkAt(layer, 100 - 8, 20), 0, 0, 'opposite side of the circle');
    assertClose(inkAt(layer, 100, 20 - 8), 0, 0, 'a quarter turn before the start');
    assertClose(inkAt(layer, 100, 20), 0, 0, 'centre');
    let total = 0;
    for (let y = 0; y < HEIGHT; y += 1) {
      for (let x = 0; x < WIDTH; x += 1) {
        const ink = inkAt(layer, x, y);
        total += ink;
        if (ink > 0) {
          const distance = Math.hypot(x + 0.5 - 100, y + 0.5 - 20);
          assert.ok(Math.abs(distance - 8) <= 1.5 + 1e-9, `ink at (${x}, ${y}) is ${distance} from the centre`);
        }
      }
    }
    // A stroke's area: width x length plus the two half-disc caps.
    assertClose(total, 2 * 8 * (Math.PI / 2) + Math.PI, 2, 'total ink');
  });

  it('refuses arcs of more than half a turn, which its angle test cannot draw', () => {
    assert.throws(() => strokeArc(blankLayer(), { ...arc, sweep: 4 }), /arc sweep must be 0 to pi radians, got 4/);
  });
});

describe('paintNoise', () => {
  const options = validateRenderOptions({ textCurves: 2, arcs: 3, dots: 20 });
  const band = [{ left: 10, right: 260, top: 8, bottom: 32 }];

  it('never lays noise darker than the noise ink, even where strokes cross', () => {
    const layer = blankLayer();
    for (let seed = 0; seed < 20; seed += 1) paintNoise(layer, band, options, seededRandom(seed));
    const strongest = 255 * options.noiseInk;
    assertClose(Math.max(...layer.ink), strongest, 1e-3, 'strongest noise pixel');
    assert.ok(Math.min(...layer.ink) >= 0, 'negative coverage');
    const full = blankLayer();
    paintNoise(full, band, { ...options, noiseInk: 1 }, seededRandom(0));
    assert.equal(Math.max(...full.ink), 255);
  });

  it('draws each curve from edge to edge: with arcs and dots off, no column is left blank', () => {
    const layer = blankLayer();
    paintNoise(layer, band, validateRenderOptions({ textCurves: 1, arcs: 0, dots: 0 }), seededRandom(3));
    for (let x = 0; x < WIDTH; x += 1) assert.ok(columnInk(layer, x) > 0, `column ${x} has no ink`);
  });

  it('is the same for the same seed', () => {
    const a = blankLayer();
    const b = blankLayer();
    paintNoise(a, band, options, seededRandom(11));
    paintNoise(b, band, options, seededRandom(11));
    assert.deepEqual(a.ink, b.ink);
  });
});
