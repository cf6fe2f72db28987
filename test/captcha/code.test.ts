import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPTCHA_ALPHABET, DEFAULT_CODE_OPTIONS, createCodeGenerator, normaliseAnswer, validateCodeOptions } from '../../src/captcha/code.js';
import { seededRandom } from '../../src/captcha/random.js';

/** Characters that a distorted rendering can turn into another (F as E and 4 as A: blind panels). */
const LOOK_ALIKES = '0OoQDd1IlijJ7|2Zz5Ss8B6Gb9gqUuVvF4';
/** J is a deliberate exception: it is in the alphabet, while I, 1, l, i and j are not. */
const ALLOWED_DESPITE_LIST = 'J';

describe('captcha alphabet', () => {
  it('has no duplicate characters', () => {
    assert.equal(new Set(CAPTCHA_ALPHABET).size, CAPTCHA_ALPHABET.length);
  });

  it('is upper case letters and digits only', () => {
    assert.match(CAPTCHA_ALPHABET, /^[A-Z0-9]+$/);
  });

  it('keeps at least 10^7 possible answers over the default lengths', () => {
    let answers = 0;
    for (let length = DEFAULT_CODE_OPTIONS.minLength; length <= DEFAULT_CODE_OPTIONS.maxLength; length += 1) answers += CAPTCHA_ALPHABET.length ** length;
    assert.ok(answers >= 1e7, `${answers} possible answers`);
  });

  it('contains no look-alike characters', () => {
    for (const character of CAPTCHA_ALPHABET) {
      if (ALLOWED_DESPITE_LIST.includes(character)) continue;
      assert.ok(!LOOK_ALIKES.includes(character), `alphabet contains look-alike ${character}`);
    }
  });
});

describe('createCodeGenerator', () => {
  it('uses only alphabet characters', () => {
    const next = createCodeGenerator({}, seededRandom(1));
    for (let i = 0; i < 2000; i += 1) {
      for (const character of next()) assert.ok(CAPTCHA_ALPHABET.includes(character), `unexpected ${character}`);
    }
  });

  it('keeps lengths within the options and uses every length in range', () => {
    const next = createCodeGenerator({ minLength: 4, maxLength: 7 }, seededRandom(2));
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i += 1) {
      const length = next().length;
      assert.ok(length >= 4 && length <= 7, `length ${length}`);
      seen.add(length);
    }
    assert.deepEqual([...seen].sort(), [4, 5, 6, 7]);
  });

  it('uses the default lengths when given no options', () => {
    const next = createCodeGenerator({}, seededRandom(3));
    for (let i = 0; i < 500; i += 1) {
      const length = next().length;
      assert.ok(length >= DEFAULT_CODE_OPTIONS.minLength && length <= DEFAULT_CODE_OPTIONS.maxLength);
    }
  });

  it('draws characters uniformly (chi-square, p = 0.001)', () => {
    const next = createCodeGenerator({ minLength: 6, maxLength: 6 }, seededRandom(4));
    const counts = new Map<string, number>([...CAPTCHA_ALPHABET].map((c) => [c, 0]));
    const draws = 6 * 10_000;
    for (let i = 0; i < 10_000; i += 1) for (const c of next()) counts.set(c, (counts.get(c) ?? 0) + 1);
    const expected = draws / CAPTCHA_ALPHABET.length;
    let chiSquare = 0;
    for (const count of counts.values()) chiSquare += (count - expected) ** 2 / expected;
    // Wilson-Hilferty approximation of the chi-square quantile at 0.999.
    const df = CAPTCHA_ALPHABET.length - 1;
    const critical = df * (1 - 2 / (9 * df) + 3.0902 * Math.sqrt(2 / (9 * df))) ** 3;
    assert.ok(chiSquare < critical, `chi-square ${chiSquare.toFixed(1)} >= ${critical.toFixed(1)}`);
  });

  it('gives different answers from the crypto source', () => {
    const next = createCodeGenerator();
    const answers = new Set(Array.from({ length: 50 }, () => next()));
    assert.ok(answers.size > 45);
  });
});

describe('validateCodeOptions', () => {
  it('merges defaults', () => {
    assert.deepEqual(validateCodeOptions(), DEFAULT_CODE_OPTIONS);
    assert.deepEqual(validateCodeOptions({ maxLength: 8 }), { ...DEFAULT_CODE_OPTIONS, maxLength: 8 });
  });

  for (const [options, name] of [
    [{ minLength: 2 }, 'minLength'],
    [{ maxLength: 9 }, 'maxLength'],
    [{ minLength: 4.5 }, 'minLength'],
    [{ maxLength: Number.NaN }, 'maxLength'],
  ] as const) {
    it(`rejects ${JSON.stringify(options)}`, () => {
      assert.throws(() => validateCodeOptions(options), (error: unknown) => error instanceof RangeError && error.message.includes(name));
    });
  }

  it('rejects minLength above maxLength', () => {
    assert.throws(() => validateCodeOptions({ minLength: 7, maxLength: 6 }), RangeError);
  });
});

describe('normaliseAnswer', () => {
  it('trims and upper-cases', () => {
    assert.equal(normaliseAnswer('  aBc4 '), 'ABC4');
  });
});
