/**
 * Failure counts in SQLite. An attempt is one BEGIN IMMEDIATE
 * transaction (SQLite runs one writer at a time, across processes too): it reads the
 * locks, and unless an enforced one is running counts the failure on every key with an
 * upsert that returns the count, then moves that key's lock later if the count asks.
 * A count forgotten (untouched for FAILURE_MEMORY_MS) restarts at 1 with no lock.
 */
import { FAILURE_MEMORY_MS, lockDuration, type AttemptCount, type FailedLoginStore, type Reservation } from '../ports.js';
import type { SqliteDatabase } from './database.js';

export class SqliteFailedLoginStore implements FailedLoginStore {
  readonly #attempt;
  readonly #refund;
  readonly #clear;
  readonly #clearRange;
  readonly #pruneFailures;

  constructor(db: SqliteDatabase) {
    const lockedUntil = db.prepare<[string, number], { locked_until: number }>(
      'SELECT locked_until FROM failed_logins WHERE key = ? AND updated_at > ?',
    );
    const count = db.prepare<[{ key: string; now: number; memory: number }], { failures: number }>(
      `INSERT INTO failed_logins (key, failures, locked_until, updated_at) VALUES (@key, 1, 0, @now)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN updated_at > @memory THEN failures + 1 ELSE 1 END,
         locked_until = CASE WHEN updated_at > @memory THEN locked_until ELSE 0 END,
         updated_at = excluded.updated_at
       RETURNING failures`,
    );
    const lock = db.prepare<[number, string]>('UPDATE failed_logins SET locked_until = ? WHERE key = ?');
    this.#attempt = db.transaction((counts: readonly AttemptCount[], now: number): Reservation[] | undefined => {
      const memory = now - FAILURE_MEMORY_MS;
      const locks = counts.map(({ key }) => lockedUntil.get(key, memory)?.locked_until ?? 0);
      if (counts.some(({ enforce }, i) => enforce && (locks[i] ?? 0) > now)) return undefined;
      return counts.map(({ key, rule }, i) => {
        const lockBefore = locks[i] ?? 0;
        const failures = count.get({ key, now, memory })?.failures ?? 1;
        const duration = lockDuration(rule, failures);
        const lockAfter = duration > 0 ? Math.max(lockBefore, now + duration) : lockBefore;
        if (lockAfter !== lockBefore) lock.run(lockAfter, key);
        return { key, lockBefore, lockAfter };
      });
    });
    this.#refund = db.prepare<[Reservation]>(
      `UPDATE failed_logins SET failures = failures - 1, locked_until = CASE WHEN locked_until = @lockAfter THEN @lockBefore ELSE locked_until END
       WHERE key = @key AND failures > 0`,
    );
    this.#clear = db.prepare<[string]>('DELETE FROM failed_logins WHERE key = ?');
    this.#clearRange = db.prepare<[string, string]>('DELETE FROM failed_logins WHERE key >= ? AND key < ?');
    this.#pruneFailures = db.prepare<[number, number]>(
      'DELETE FROM failed_logins WHERE key IN (SELECT key FROM failed_logins WHERE updated_at <= ? LIMIT ?)',
    );
  }

  async tryAttempt(counts: readonly AttemptCount[], now: number): Promise<Reservation[] | undefined> {
    return this.#attempt.immediate(counts, now);
  }

  async refund(reservation: Reservation): Promise<void> {
    this.#refund.run(reservation);
  }

  async clear(key: string): Promise<void> {
    this.#clear.run(key);
  }

  async clearPrefixed(prefix: string): Promise<void> {
    // The keys that start with prefix, as a range of the primary key: from prefix up to
    // (not including) prefix with its last character moved one up.
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    this.#clearRange.run(prefix, end);
  }

  /** Deletes up to `limit` forgotten counts; returns how many went. */
  prune(now: number, limit: number): number {
    return this.#pruneFailures.run(now - FAILURE_MEMORY_MS, limit).changes;
  }
}
