/**
 * Attack mode's counters in SQLite: one row per 10-second bucket, counted with an upsert
 * (atomic, also across processes on the same file) and pruned once no reader looks at it.
 */
import { ATTACK_SIGNAL_MEMORY_MS, attackBucketOf, type AttackBucket, type AttackSignalStore } from '../ports.js';
import type { SqliteDatabase } from './database.js';

export class SqliteAttackSignalStore implements AttackSignalStore {
  readonly #record;
  readonly #read;
  readonly #prune;

  constructor(db: SqliteDatabase) {
    this.#record = db.prepare<[number, number]>(
      `INSERT INTO attack_signals (bucket_start, attempts, failures) VALUES (?, 1, ?)
       ON CONFLICT (bucket_start) DO UPDATE SET attempts = attempts + 1, failures = failures + excluded.failures`,
    );
    this.#read = db.prepare<[number, number], AttackBucket>(
      `SELECT bucket_start AS start, attempts, failures FROM attack_signals
       WHERE bucket_start BETWEEN ? AND ? ORDER BY bucket_start`,
    );
    this.#prune = db.prepare<[number, number]>(
      'DELETE FROM attack_signals WHERE bucket_start IN (SELECT bucket_start FROM attack_signals WHERE bucket_start < ? LIMIT ?)',
    );
  }

  async record(failed: boolean, now: number): Promise<void> {
    this.#record.run(attackBucketOf(now), failed ? 1 : 0);
  }

  async read(since: number, now: number): Promise<AttackBucket[]> {
    return this.#read.all(attackBucketOf(since), attackBucketOf(now));
  }

  /** Deletes up to `limit` buckets no reader looks at any more; returns how many went. */
  prune(now: number, limit: number): number {
    return this.#prune.run(now - ATTACK_SIGNAL_MEMORY_MS, limit).changes;
  }
}
