/**
 * Random sources for the captcha.
 *
 * Answers must be unpredictable, so production uses the OS CSPRNG (crypto.randomInt does
 * rejection sampling, so every value in range is equally likely). Drawing only needs
 * variety, but takes the same interface so that a seeded source can make a render
 * reproducible in tests and in the sample generator.
 */
import { createCipheriv, randomInt } from 'node:crypto';

export interface RandomSource {
  /** A uniformly distributed integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** A uniformly distributed float in [0, 1). */
  float(): number;
}

const FLOAT_STEPS = 2 ** 48 - 1;

export const cryptoRandom: RandomSource = {
  int: (maxExclusive) => randomInt(maxExclusive),
  float: () => randomInt(FLOAT_STEPS) / FLOAT_STEPS,
};

/**
 * A fast deterministic source (mulberry32). Never use it for answers: its state is 32 bits.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  const float = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { float, int: (maxExclusive) => Math.floor(float() * maxExclusive) };
}

/**
 * A deterministic source keyed by a 128-bit secret: the AES-128-CTR keystream of the key.
 * The same key always gives the same sequence; without the key it cannot be predicted
 * or searched for (unlike seededRandom's 32-bit state).
 */
export function keyedRandom(key: Buffer): RandomSource {
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(4096);
  const words = new Uint32Array(zeros.length / 4);
  const wordBytes = Buffer.from(words.buffer);
  let next = words.length;
  const next32 = (): number => {
    if (next === words.length) {
      cipher.update(zeros).copy(wordBytes);
      next = 0;
    }
    return words[next++] as number;
  };
  // 53 random bits, the precision of a double.
  const float = (): number => (next32() * 2 ** 21 + (next32() >>> 11)) / 2 ** 53;
  return { float, int: (maxExclusive) => Math.floor(float() * maxExclusive) };
}

/** A float in [min, max). */
export function between(random: RandomSource, min: number, max: number): number {
  return min + random.float() * (max - min);
}

export function pick<T>(random: RandomSource, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick() needs at least one item');
  return items[random.int(items.length)] as T;
}
