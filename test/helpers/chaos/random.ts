/**
 * The chaos run's randomness: one seed makes every choice (who does what, which fault,
 * when, for how long), so a run can be repeated with its seed. Timing still varies from
 * run to run (the stores and the event loop decide the interleaving), so the seed fixes
 * the plan, not every outcome.
 */

/** mulberry32: small, fast, good enough to plan a load; never for secrets. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A generator of its own for a part of the run, so one part's draws do not shift another's. */
  fork(salt: number): Random {
    return new Random(Math.imul(this.#state ^ Math.imul(salt + 1, 0x9e3779b1), 0x85ebca6b) ^ salt);
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(min: number, maxInclusive: number): number {
    return Math.floor(this.between(min, maxInclusive + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Random.pick: nothing to pick from');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One of the keys, with the given weights. */
  weighted<K extends string>(weights: Partial<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return (entries.at(-1) as [K, number])[0];
  }
}

/** A seed from the clock, for a run that was not given one. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
