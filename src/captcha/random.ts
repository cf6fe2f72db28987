/**
 * Random sources for the captcha.
 *
 * Answers must be unpredictable, so production uses the OS CSPRNG (crypto.randomInt does
 * rejection sampling, so every value in range is equally likely). Drawing only needs
 * variety, but takes the same interface so that a seeded source can make a render
 * reproducible in tests and in the sample generator.
 */
import { randomInt } from 'node:crypto';

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

/** A float in [min, max). */
export function between(random: RandomSource, min: number, max: number): number {
  return min + random.float() * (max - min);
}

export function pick<T>(random: RandomSource, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick() needs at least one item');
  return items[random.int(items.length)] as T;
}
