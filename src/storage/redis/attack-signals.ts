/**
 * Attack mode's counters in Redis: one hash {attempts, failures} per 10-second bucket,
 * counted by one script (HINCRBY and the expiry together) and expiring by itself
 * ATTACK_SIGNAL_MEMORY_MS after the bucket's start. A read asks for every bucket in the
 * range by name (at most a few dozen), in one script.
 */
import { ATTACK_BUCKET_MS, ATTACK_SIGNAL_MEMORY_MS, attackBucketOf, type AttackBucket, type AttackSignalStore } from '../ports.js';
import { keepUntil, type RedisClient } from './client.js';
import { READ_COUNTS, RECORD_OUTCOME } from './scripts.js';

export class RedisAttackSignalStore implements AttackSignalStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  #key(start: number): string {
    return `${this.prefix}attack:${start}`;
  }

  async record(failed: boolean, now: number): Promise<void> {
    const start = attackBucketOf(now);
    await this.client.eval(RECORD_OUTCOME, {
      keys: [this.#key(start)],
      arguments: [failed ? '1' : '0', String(keepUntil(start + ATTACK_SIGNAL_MEMORY_MS).value)],
    });
  }

  async read(since: number, now: number): Promise<AttackBucket[]> {
    const starts: number[] = [];
    for (let start = attackBucketOf(since); start <= attackBucketOf(now); start += ATTACK_BUCKET_MS) starts.push(start);
    const counts = (await this.client.eval(READ_COUNTS, { keys: starts.map((start) => this.#key(start)) })) as Array<string | null>;
    return starts
      .map((start, i) => ({ start, attempts: Number(counts[2 * i] ?? 0), failures: Number(counts[2 * i + 1] ?? 0) }))
      .filter((bucket) => bucket.attempts > 0);
  }
}
