import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createCanvas, loadImage } from 'canvas';
import { CAPTCHA_ALPHABET } from '../../src/captcha/code.js';
import { contrastRatio, type Rgb } from '../../src/captcha/colour.js';
import { registerCaptchaFonts } from '../../src/captcha/fonts.js';
import { cryptoRandom, seededRandom, type RandomSource } from '../../src/captcha/random.js';
import { COLOUR_BANDS, COVERAGE_LEVELS, bandColours, planCaptcha } from '../../src/captcha/plan.js';
import { renderCaptcha, renderCaptchaSync } from '../../src/captcha/render.js';
import { DEFAULT_RENDER_OPTIONS, validateRenderOptions, type RenderOptions } from '../../src/captcha/render-options.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The PNG's chunks by type (the last of each type), after checking the signature. */
function pngChunks(png: Buffer): Map<string, Buffer> {
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, 'PNG signature');
  const chunks = new Map<string, Buffer>();
  for (let offset = 8; offset < png.length; ) {
    const length = png.readUInt32BE(offset);
    chunks.set(png.toString('latin1', offset + 4, offset + 8), png.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  return chunks;
}

function pngHeader(png: Buffer): { width: number; height: number; bitDepth: number; colourType: number } {
  const header = pngChunks(png).get('IHDR');
  assert.ok(header, 'IHDR chunk');
  return { width: header.readUInt32BE(0), height: header.readUInt32BE(4), bitDepth: header[8] as number, colourType: header[9] as number };
}

/** The PNG's palette (PLTE chunk) as colours. */
function pngPalette(png: Buffer): Rgb[] {
  const plte = pngChunks(png).get('PLTE');
  assert.ok(plte, 'PLTE chunk');
  return Array.from({ length: plte.length / 3 }, (_, i): Rgb => [plte[3 * i] as number, plte[3 * i + 1] as number, plte[3 * i + 2] as number]);
}

/** Decodes a PNG the way a browser would and returns its RGBA pixels. */
async function decodedPixels(png: Buffer): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  return { width: image.width, height: image.height, data: ctx.getImageData(0, 0, image.width, image.height).data };
}

/**
 * Renders `answer` with a seed, decodes the PNG, and tells for each pixel whether it shows
 * plain background (one of the plan's band background colours): no ink at all.
 */
async function renderedBackground(
  answer: string,
  options: RenderOptions,
  seed: number,
): Promise<{ width: number; height: number; isBackground: (x: number, y: number) => boolean }> {
  const backgrounds = new Set(bandColours(planCaptcha(answer, options, seededRandom(seed))).background.map((c) => c.join()));
  const { width, height, data } = await decodedPixels(await renderCaptcha(answer, options, seededRandom(seed)));
  const isBackground = (x: number, y: number): boolean => {
    const i = (y * width + x) * 4;
    return backgrounds.has(`${data[i]},${data[i + 1]},${data[i + 2]}`);
  };
  return { width, height, isBackground };
}

function randomAnswer(random: RandomSource, length: number): string {
  let answer = '';
  for (let i = 0; i < length; i += 1) answer += CAPTCHA_ALPHABET[random.int(CAPTCHA_ALPHABET.length)];
  return answer;
}

const options = validateRenderOptions();
/** Glyphs only: no curves, arcs, dots or decoys. */
const quiet = validateRenderOptions({ textCurves: 0, arcs: 0, dots: 0, decoys: 0 });

before(() => registerCaptchaFonts());

describe('renderCaptcha', () => {
  it('produces an 8-bit indexed PNG of the configured size', async () => {
    assert.deepEqual(pngHeader(await renderCaptcha('ACE34', options, cryptoRandom)), { width: 270, height: 40, bitDepth: 8, colourType: 3 });
    const custom = validateRenderOptions({ width: 320, height: 60 });
    assert.deepEqual(pngHeader(await renderCaptcha('ACE34', custom, cryptoRandom)), { width: 320, height: 60, bitDepth: 8, colourType: 3 });
    assert.deepEqual(pngHeader(renderCaptchaSync('ACE34', custom, cryptoRandom)), { width: 320, height: 60, bitDepth: 8, colourType: 3 });
  });

  it('decodes to many colours: anti-aliased ink over a varying background', async () => {
    const { data } = await decodedPixels(await renderCaptcha('HKMWX', options, seededRandom(1)));
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4) colours.add(((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number));
    assert.ok(colours.size > 50, `only ${colours.size} colours`);
  });

  it('differs from call to call', async () => {
    const first = await renderCaptcha('ACE34', options, cryptoRandom);
    const second = await renderCaptcha('ACE34', options, cryptoRandom);
    assert.notDeepEqual(first, second);
  });

  it('is byte-identical for the same seed and differs for another seed', async () => {
    const a = await renderCaptcha('PRTWY', options, seededRandom(42));
    const b = await renderCaptcha('PRTWY', options, seededRandom(42));
    const c = await renderCaptcha('PRTWY', options, seededRandom(43));
    assert.ok(a.equals(b));
    assert.ok(!a.equals(c));
    renderCaptchaSync('WWWWW', validateRenderOptions({ dots: 500, textCurves: 9 }), seededRandom(7));
    // Canvases are reused; what the previous call drew must not leak in.
    assert.ok(a.equals(renderCaptchaSync('PRTWY', options, seededRandom(42))));
    const concurrent = await Promise.all([1, 2, 3, 4].map(() => renderCaptcha('PRTWY', options, seededRandom(42))));
    for (const png of concurrent) assert.ok(a.equals(png), 'same bytes while other encodes are in flight');
  });

  it('draws each answer character once, in order', () => {
    const plan = planCaptcha('XY34AC', options, seededRandom(5));
    assert.equal(plan.glyphs.map((g) => g.character).join(''), 'XY34AC');
    const xs = plan.glyphs.map((g) => g.centreX);
    assert.deepEqual([...xs].sort((p, q) => p - q), xs, 'glyphs left to right');
  });
});

describe('glyph styles', () => {
  it('draws every glyph in upper case, in one of the configured fonts, and uses them all', () => {
    const families = new Set<string>();
    for (let seed = 0; seed < 200; seed += 1) {
      for (const glyph of planCaptcha('AEHMTY34KW', options, seededRandom(seed)).glyphs) {
        assert.ok(options.fontFamilies.includes(glyph.family), glyph.family);
        families.add(glyph.family);
      }
    }
    assert.deepEqual([...families].sort(), [...options.fontFamilies].sort());
  });
});

describe('layout', () => {
  it('keeps every glyph box inside the image over many seeds and lengths', () => {
    const answers = seededRandom(7);
    for (let seed = 0; seed < 1500; seed += 1) {
      const answer = randomAnswer(answers, 3 + (seed % 6));
      const plan = planCaptcha(answer, options, seededRandom(seed));
      for (const { box, character } of plan.glyphs) {
        const where = `seed ${seed}, ${answer}, glyph ${character}: ${JSON.stringify(box)}`;
        assert.ok(box.left >= 0 && box.top >= 0, where);
        assert.ok(box.right <= options.width && box.bottom <= options.height, where);
        assert.ok(box.right - box.left > 6 && box.bottom - box.top > 12, `glyph too small: ${where}`);
      }
    }
  });

  it('keeps a clear gap of at least glyphGapMin between neighbouring glyph boxes', () => {
    // With ink only inside the boxes (next test), this means two glyphs never touch.
    const answers = seededRandom(17);
    let narrowest = Infinity;
    for (let seed = 0; seed < 1500; seed += 1) {
      const answer = randomAnswer(answers, 3 + (seed % 6));
      const { glyphs } = planCaptcha(answer, options, seededRandom(seed));
      for (let i = 1; i < glyphs.length; i += 1) {
        const gap = (glyphs[i] as (typeof glyphs)[number]).box.left - (glyphs[i - 1] as (typeof glyphs)[number]).box.right;
        narrowest = Math.min(narrowest, gap);
        assert.ok(gap >= options.glyphGapMin - 1e-9, `seed ${seed} ${answer}: glyphs ${i - 1} and ${i} only ${gap.toFixed(2)} px apart`);
      }
    }
    assert.ok(narrowest < options.glyphGapMin + 1, `narrowest gap ${narrowest.toFixed(2)} px: the minimum is never used`);
  });

  it('refuses a row that cannot fit with its gaps', () => {
    assert.throws(() => planCaptcha('AAAAAAAA', validateRenderOptions({ width: 60, glyphGapMin: 20, glyphGapMax: 20 }), seededRandom(1)), /cannot fit/);
  });

  it('puts glyph ink only inside the planned glyph boxes, warp included', async () => {
    const answers = seededRandom(9);
    let inked = 0;
    for (let seed = 0; seed < 100; seed += 1) {
      const answer = randomAnswer(answers, 1 + (seed % 3));
      const { glyphs } = planCaptcha(answer, quiet, seededRandom(seed));
      const { width, height, isBackground } = await renderedBackground(answer, quiet, seed);
      const inside = (x: number, y: number): boolean =>
        glyphs.some(({ box }) => x + 1 > box.left && x < box.right && y + 1 > box.top && y < box.bottom);
      for (let y = 0; y < height; y += 1) {
        for (let x = 0; x < width; x += 1) {
          if (isBackground(x, y)) continue;
          inked += 1;
          assert.ok(inside(x, y), `seed ${seed} ${answer}: ink at ${x},${y} outside every glyph box`);
        }
      }
    }
    assert.ok(inked > 100 * 150, `only ${inked} inked pixels in 100 pictures`);
  });

  it('leaves the image border untouched by glyph ink', async () => {
    // Checks the decoded pixels, not just the computed boxes: with curves, arcs and dots
    // off, the outermost ring of pixels must be pure background colour.
    const answers = seededRandom(8);
    for (let seed = 0; seed < 150; seed += 1) {
      const answer = randomAnswer(answers, 5 + (seed % 2));
      const { width, height, isBackground } = await renderedBackground(answer, quiet, seed);
      for (let x = 0; x < width; x += 1) {
        assert.ok(isBackground(x, 0) && isBackground(x, height - 1), `seed ${seed} ${answer}: ink at column ${x} edge`);
      }
      for (let y = 0; y < height; y += 1) {
        assert.ok(isBackground(0, y) && isBackground(width - 1, y), `seed ${seed} ${answer}: ink at row ${y} edge`);
      }
    }
  });
});

describe('noise', () => {
  it('draws decoys smaller than the answer glyphs and never on one of them', () => {
    const answers = seededRandom(23);
    let drawn = 0;
    for (let seed = 0; seed < 500; seed += 1) {
      const answer = randomAnswer(answers, 5 + (seed % 2));
      const { decoys, glyphs } = planCaptcha(answer, options, seededRandom(seed));
      assert.ok(decoys.length <= options.decoys);
      drawn += decoys.length;
      for (const decoy of decoys) {
        assert.ok(CAPTCHA_ALPHABET.includes(decoy.character), decoy.character);
        assert.ok(decoy.size < 0.81 * options.fontSizeMax, `decoy of ${decoy.size.toFixed(1)} px`);
        for (const { box, character } of glyphs) {
          const apart = decoy.box.right <= box.left || decoy.box.left >= box.right;
          assert.ok(apart, `seed ${seed} ${answer}: decoy ${decoy.character} ${JSON.stringify(decoy.box)} on ${character} ${JSON.stringify(box)}`);
        }
      }
    }
    // Left out only where the row leaves no room beside it.
    assert.ok(drawn > 500 * options.decoys * 0.8, `${drawn} decoys in 500 pictures`);
    assert.equal(planCaptcha('ACE3HK', validateRenderOptions({ decoys: 0 }), seededRandom(1)).decoys.length, 0);
  });

  it('is a paler shade than the glyph ink everywhere outside the glyphs', async () => {
    // The decoded colour of each pixel is matched to its column band's ramp in the PNG's
    // own palette: step 0 is the background, the last step full ink.
    const palest = Math.round(options.noiseInk * (COVERAGE_LEVELS - 1));
    const answers = seededRandom(21);
    for (let seed = 0; seed < 40; seed += 1) {
      const answer = randomAnswer(answers, 5 + (seed % 2));
      const png = await renderCaptcha(answer, options, seededRandom(seed));
      const palette = pngPalette(png).map((c) => c.join());
      const { width, height, data } = await decodedPixels(png);
      const { glyphs } = planCaptcha(answer, options, seededRandom(seed));
      let strongestNoise = 0;
      let strongestGlyph = 0;
      for (let y = 0; y < height; y += 1) {
        for (let x = 0; x < width; x += 1) {
          const i = (y * width + x) * 4;
          const colour = `${data[i]},${data[i + 1]},${data[i + 2]}`;
          const band = Math.floor((x * COLOUR_BANDS) / width);
          const step = palette.slice(band * COVERAGE_LEVELS, (band + 1) * COVERAGE_LEVELS).indexOf(colour);
          assert.ok(step >= 0, `seed ${seed}: colour ${colour} at ${x},${y} is not on its band's ramp`);
          const inGlyph = glyphs.some(({ box }) => x + 1 > box.left && x < box.right && y + 1 > box.top && y < box.bottom);
          if (inGlyph) strongestGlyph = Math.max(strongestGlyph, step);
          else strongestNoise = Math.max(strongestNoise, step);
        }
      }
      assert.ok(strongestNoise <= palest, `seed ${seed}: noise at step ${strongestNoise}, above ${palest}`);
      assert.ok(strongestNoise >= palest - 1, `seed ${seed}: noise only reaches step ${strongestNoise}`);
      assert.equal(strongestGlyph, COVERAGE_LEVELS - 1, `seed ${seed}: glyphs never reach full ink`);
    }
  });
});

describe('colour contrast', () => {
  it('computes WCAG contrast ratios', () => {
    assert.equal(contrastRatio([0, 0, 0], [255, 255, 255]), 21);
    assert.equal(contrastRatio([255, 255, 255], [0, 0, 0]), 21);
    assert.equal(contrastRatio([120, 30, 200], [120, 30, 200]), 1);
    // #767676 on white is the classic 4.5:1 boundary (4.54).
    assert.ok(Math.abs(contrastRatio([0x76, 0x76, 0x76], [255, 255, 255]) - 4.54) < 0.01);
  });

  it('keeps full ink at least 4.5:1 against every background colour in the delivered palette', async () => {
    // Read from the PNG itself: entry band * levels + step mixes the band's background
    // (step 0) with its ink (last step). Ink is checked against the background of every
    // band, since a glyph can cross from one band into the next.
    let darkBackgrounds = 0;
    let worst = Infinity;
    for (let seed = 0; seed < 400; seed += 1) {
      const png = renderCaptchaSync('AEHMN', options, seededRandom(seed));
      const palette = pngPalette(png);
      assert.equal(palette.length, COLOUR_BANDS * COVERAGE_LEVELS);
      const backgrounds = Array.from({ length: COLOUR_BANDS }, (_, band) => palette[band * COVERAGE_LEVELS] as Rgb);
      const inks = Array.from({ length: COLOUR_BANDS }, (_, band) => palette[band * COVERAGE_LEVELS + COVERAGE_LEVELS - 1] as Rgb);
      for (const ink of inks) {
        for (const background of backgrounds) {
          const ratio = contrastRatio(ink, background);
          worst = Math.min(worst, ratio);
          assert.ok(ratio >= 4.5, `seed ${seed}: ink ${ink.join()} on ${background.join()} is ${ratio.toFixed(2)}`);
        }
      }
      if (planCaptcha('AEHMN', options, seededRandom(seed)).dark) darkBackgrounds += 1;
    }
    assert.ok(darkBackgrounds > 150 && darkBackgrounds < 250, `dark backgrounds: ${darkBackgrounds} of 400`);
    // The ink is not simply black or white: most images sit well inside the allowed range.
    assert.ok(worst < 6, `worst contrast seen ${worst.toFixed(2)}`);
  });

  it('keeps the planned band colours at least 4.5:1 over many seeds', () => {
    for (let seed = 0; seed < 5000; seed += 1) {
      const { background, ink } = bandColours(planCaptcha('A', quiet, seededRandom(seed)));
      for (const i of ink) for (const b of background) assert.ok(contrastRatio(i, b) >= 4.5, `seed ${seed}: ${i.join()} on ${b.join()}`);
    }
  });

  it('varies ink colour along the image', () => {
    let varied = 0;
    for (let seed = 0; seed < 50; seed += 1) {
      const { ink } = bandColours(planCaptcha('AEHMNX', options, seededRandom(seed)));
      if (new Set(ink.map((c) => c.join())).size > 4) varied += 1;
    }
    assert.ok(varied > 35, `ink varied in ${varied} of 50 images`);
  });
});

describe('validateRenderOptions', () => {
  it('merges the defaults', () => {
    assert.deepEqual(validateRenderOptions(), { ...DEFAULT_RENDER_OPTIONS });
    assert.equal(DEFAULT_RENDER_OPTIONS.width, 270);
    assert.equal(DEFAULT_RENDER_OPTIONS.height, 40);
    assert.equal(validateRenderOptions({ dots: 0 }).dots, 0);
  });

  const bad: Array<[Partial<Record<keyof RenderOptions, unknown>>, string]> = [
    [{ width: 0 }, 'width'],
    [{ width: 270.5 }, 'width'],
    [{ height: 'tall' }, 'height'],
    [{ fontSizeMin: 30, fontSizeMax: 20 }, 'fontSizeMin'],
    [{ maxRotationDegrees: 90 }, 'maxRotationDegrees'],
    [{ maxShear: -0.1 }, 'maxShear'],
    [{ baselineWavelengthMin: 300, baselineWavelengthMax: 100 }, 'baselineWavelengthMin'],
    [{ glyphGapMin: Number.NaN }, 'glyphGapMin'],
    [{ glyphGapMin: 8, glyphGapMax: 4 }, 'glyphGapMin'],
    [{ noiseInk: 1.5 }, 'noiseInk'],
    [{ dots: -1 }, 'dots'],
    [{ arcs: 1.5 }, 'arcs'],
    [{ pngCompressionLevel: 10 }, 'pngCompressionLevel'],
    [{ fontFamilies: [] }, 'fontFamilies'],
    [{ height: 30, fontSizeMin: 31, fontSizeMax: 40 }, 'fontSizeMin'],
  ];
  for (const [options, name] of bad) {
    it(`rejects ${JSON.stringify(options)} naming ${name}`, () => {
      assert.throws(
        () => validateRenderOptions(options as Partial<RenderOptions>),
        (error: unknown) => error instanceof RangeError && error.message.includes(name),
      );
    });
  }

  it('rejects an empty answer', () => {
    assert.throws(() => planCaptcha('', options, seededRandom(1)), RangeError);
  });
});
