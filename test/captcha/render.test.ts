import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CAPTCHA_ALPHABET } from '../../src/captcha/code.js';
import { registerCaptchaFonts } from '../../src/captcha/fonts.js';
import { cryptoRandom, seededRandom, type RandomSource } from '../../src/captcha/random.js';
import {
  DEFAULT_RENDER_OPTIONS,
  contrastRatio,
  drawCaptcha,
  planCaptcha,
  renderCaptcha,
  renderCaptchaSync,
  validateRenderOptions,
  type RenderOptions,
} from '../../src/captcha/render.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, 'PNG signature');
  assert.equal(png.toString('latin1', 12, 16), 'IHDR', 'first chunk is IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

function randomAnswer(random: RandomSource, length: number): string {
  let answer = '';
  for (let i = 0; i < length; i += 1) answer += CAPTCHA_ALPHABET[random.int(CAPTCHA_ALPHABET.length)];
  return answer;
}

const options = validateRenderOptions();
/** Decoys are off by default; tests that cover them switch them on. */
const withDecoys = validateRenderOptions({ decoys: 6 });

before(() => registerCaptchaFonts());

describe('renderCaptcha', () => {
  it('produces a PNG of the configured size', async () => {
    assert.deepEqual(pngSize(await renderCaptcha('ACE34', options, cryptoRandom)), { width: 270, height: 40 });
    const custom = validateRenderOptions({ width: 320, height: 60 });
    assert.deepEqual(pngSize(await renderCaptcha('ACE34', custom, cryptoRandom)), { width: 320, height: 60 });
    assert.deepEqual(pngSize(renderCaptchaSync('ACE34', custom, cryptoRandom)), { width: 320, height: 60 });
  });

  it('draws more than one flat colour', () => {
    const canvas = drawCaptcha('HKMWX', options, seededRandom(1));
    const pixels = new Uint32Array(canvas.getContext('2d').getImageData(0, 0, options.width, options.height).data.buffer);
    assert.ok(new Set(pixels).size > 50, `only ${new Set(pixels).size} colours`);
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
    renderCaptchaSync('WWWWW', validateRenderOptions({ dots: 500 }), seededRandom(7));
    // The sync path reuses one canvas; what the previous call drew must not leak in.
    assert.ok(a.equals(renderCaptchaSync('PRTWY', options, seededRandom(42))));
  });

  it('draws each answer character once, in order', () => {
    const plan = planCaptcha('XY34AC', options, seededRandom(5));
    assert.equal(plan.glyphs.map((g) => g.character).join(''), 'XY34AC');
    for (const glyph of plan.glyphs) assert.equal(glyph.drawn.toUpperCase(), glyph.character);
    const xs = plan.glyphs.map((g) => g.centreX);
    assert.deepEqual([...xs].sort((p, q) => p - q), xs, 'glyphs left to right');
  });
});

describe('glyph styles', () => {
  it('draws solid or outlined glyphs as outlineShare says', () => {
    const count = (share: number): number => {
      let outlined = 0;
      for (let seed = 0; seed < 200; seed += 1) {
        outlined += planCaptcha('ACEFH', validateRenderOptions({ outlineShare: share }), seededRandom(seed)).glyphs.filter((g) => g.outlined).length;
      }
      return outlined;
    };
    assert.equal(count(0), 0);
    assert.equal(count(1), 1000);
    const half = count(0.5);
    assert.ok(half > 400 && half < 600, `outlined ${half} of 1000`);
  });

  it('inks less for outlined glyphs than for solid ones', () => {
    const quiet = { textCurves: 0, noiseLines: 0, dots: 0, arcs: 0, textureBlobs: 0, decoys: 0, warpAmplitude: 0 };
    const inked = (outlineShare: number): number => {
      const options = validateRenderOptions({ ...quiet, outlineShare });
      const { base } = planCaptcha('HHHHH', options, seededRandom(3)).background;
      const data = drawCaptcha('HHHHH', options, seededRandom(3)).getContext('2d').getImageData(0, 0, options.width, options.height).data;
      // Total colour distance from the background: hollow glyphs leave their middles
      // (partly, after scaling) in background colour.
      let ink = 0;
      for (let i = 0; i < data.length; i += 4) {
        ink += Math.abs((data[i] as number) - base[0]) + Math.abs((data[i + 1] as number) - base[1]) + Math.abs((data[i + 2] as number) - base[2]);
      }
      return ink;
    };
    assert.ok(inked(1) < inked(0) * 0.98, `outlined ${inked(1)} vs solid ${inked(0)}`);
  });
});

describe('layout', () => {
  it('keeps every glyph box inside the image over many seeds and lengths', () => {
    const answers = seededRandom(7);
    for (let seed = 0; seed < 1500; seed += 1) {
      const answer = randomAnswer(answers, 3 + (seed % 6));
      const plan = planCaptcha(answer, withDecoys, seededRandom(seed));
      assert.equal(plan.decoys.length, withDecoys.decoys);
      for (const { box, drawn } of [...plan.glyphs, ...plan.decoys]) {
        const where = `seed ${seed}, ${answer}, glyph ${drawn}: ${JSON.stringify(box)}`;
        assert.ok(box.left >= 0 && box.top >= 0, where);
        assert.ok(box.right <= withDecoys.width && box.bottom <= withDecoys.height, where);
        assert.ok(box.right - box.left > 4 && box.bottom - box.top > 8, `glyph too small: ${where}`);
      }
    }
  });

  it('leaves the image border untouched by ink when there is no noise', () => {
    // Checks the drawn pixels, not just the computed boxes: with noise and texture
    // off, the outermost ring of pixels must be pure background. Decoys stay on: they
    // must stay inside too.
    const quiet = validateRenderOptions({ textCurves: 0, noiseLines: 0, dots: 0, arcs: 0, textureBlobs: 0, decoys: 6 });
    const answers = seededRandom(8);
    for (let seed = 0; seed < 150; seed += 1) {
      const answer = randomAnswer(answers, 5 + (seed % 2));
      const { base } = planCaptcha(answer, quiet, seededRandom(seed)).background;
      const data = drawCaptcha(answer, quiet, seededRandom(seed)).getContext('2d').getImageData(0, 0, quiet.width, quiet.height).data;
      const isBackground = (x: number, y: number): boolean => {
        const i = (y * quiet.width + x) * 4;
        return data[i] === base[0] && data[i + 1] === base[1] && data[i + 2] === base[2];
      };
      for (let x = 0; x < quiet.width; x += 1) {
        assert.ok(isBackground(x, 0) && isBackground(x, quiet.height - 1), `seed ${seed} ${answer}: ink at column ${x} edge`);
      }
      for (let y = 0; y < quiet.height; y += 1) {
        assert.ok(isBackground(0, y) && isBackground(quiet.width - 1, y), `seed ${seed} ${answer}: ink at row ${y} edge`);
      }
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

  it('keeps every glyph at least 4.5:1 against every background and decoy colour over many seeds', () => {
    let darkBackgrounds = 0;
    for (let seed = 0; seed < 2000; seed += 1) {
      const { background, glyphs } = planCaptcha('AEHMN', withDecoys, seededRandom(seed));
      if (background.dark) darkBackgrounds += 1;
      for (const glyph of glyphs) {
        for (const behind of [background.base, ...background.texture]) {
          const ratio = contrastRatio(glyph.colour, behind);
          assert.ok(ratio >= 4.5, `seed ${seed}: ${glyph.colour.join()} on ${behind.join()} is ${ratio.toFixed(2)}`);
        }
      }
    }
    assert.ok(darkBackgrounds > 800 && darkBackgrounds < 1200, `dark backgrounds: ${darkBackgrounds} of 2000`);
  });

  it('keeps decoys faint: at most 1.7:1 against the background base', () => {
    for (let seed = 0; seed < 300; seed += 1) {
      const { background, decoys } = planCaptcha('AEHMN', withDecoys, seededRandom(seed));
      assert.equal(decoys.length, withDecoys.decoys);
      for (const decoy of decoys) {
        const ratio = contrastRatio(decoy.colour, background.base);
        assert.ok(ratio >= 1.25 && ratio <= 1.7, `seed ${seed}: decoy contrast ${ratio.toFixed(2)}`);
      }
    }
  });

  it('varies glyph colours', () => {
    const colours = new Set(planCaptcha('AEHMNX', options, seededRandom(9)).glyphs.map((g) => g.colour.join()));
    assert.ok(colours.size >= 4);
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
    [{ spacingMin: Number.NaN }, 'spacingMin'],
    [{ dots: -1 }, 'dots'],
    [{ arcs: 1.5 }, 'arcs'],
    [{ pngCompressionLevel: 10 }, 'pngCompressionLevel'],
    [{ fontFamilies: [] }, 'fontFamilies'],
    [{ lowerCaseLetters: 'ab' }, 'lowerCaseLetters'],
    [{ lowerCaseShare: 2 }, 'lowerCaseShare'],
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
