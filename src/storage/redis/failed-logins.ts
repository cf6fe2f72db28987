/**
 * Failure counts in Redis. A count is a hash {failures, lockedUntil} that PEXPIREAT
 * forgets FAILURE_MEMORY_MS after the last failure. An attempt is one script
 * (TRY_ATTEMPT) over all its counts: check the locks, count, set the locks, so no other
 * attempt runs in between.
 */
import { FAILURE_MEMORY_MS, type AttemptCount, type FailedLoginStore, type Reservation } from '../ports.js';
import type { RedisClient } from './client.js';
import { REFUND, TRY_ATTEMPT } from './scripts.js';

export class RedisFailedLoginStore implements FailedLoginStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  #countKey(key: string): string {
    return `${this.prefix}failures:${key}`;
  }

  async tryAttempt(counts: readonly AttemptCount[], now: number): Promise<Reservation[] | undefined> {
    const rules = counts.flatMap(({ enforce, rule }) => [enforce ? '1' : '0', String(rule.after), String(rule.baseMs), String(rule.maxMs)]);
    const locks = (await this.client.eval(TRY_ATTEMPT, {
      keys: counts.map(({ key }) => this.#countKey(key)),
      arguments: [String(now), String(now + FAILURE_MEMORY_MS), ...rules],
    })) as string[];
    if (locks.length === 0) return undefined;
    return counts.map(({ key }, i) => ({ key, lockBefore: Number(locks[2 * i]), lockAfter: Number(locks[2 * i + 1]) }));
  }

  async refund({ key, lockBefore, lockAfter }: Reservation): Promise<void> {
    await this.client.eval(REFUND, { keys: [this.#countKey(key)], arguments: [String(lockBefore), String(lockAfter)] });
  }

  async clear(key: string): Promise<void> {
    await this.client.del(this.#countKey(key));
  }

  /** SCANs the key space for the prefix: an operator's command, never a request's. */
  async clearPrefixed(prefix: string): Promise<void> {
    const pattern = `${this.#countKey(prefix).replace(/[*?[\]\\]/g, '\\$&')}*`;
    for await (const keys of this.client.scanIterator({ MATCH: pattern, COUNT: 500 })) if (keys.length > 0) await this.client.del(keys);
  }
}
