/**
 * Failure counts and sign-in networks in SQLite. A failure is one upsert that counts and
 * returns the count, then (in the same transaction) the lock it asks for, so concurrent
 * failures from two processes each see their own count.
 */
import { FAILURE_MEMORY_MS, KNOWN_NETWORK_MS, type FailedLoginStore } from '../ports.js';
import type { SqliteDatabase } from './database.js';

export class SqliteFailedLoginStore implements FailedLoginStore {
  readonly #get;
  readonly #add;
  readonly #clear;
  readonly #remember;
  readonly #knows;
  readonly #pruneFailures;
  readonly #pruneNetworks;

  constructor(db: SqliteDatabase) {
    this.#get = db.prepare<[string, number], { locked_until: number }>(
      'SELECT locked_until FROM failed_logins WHERE key = ? AND updated_at > ?',
    );
    const count = db.prepare<[string, number, number], { failures: number }>(
      `INSERT INTO failed_logins (key, failures, locked_until, updated_at) VALUES (?, 1, 0, ?)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN updated_at > ? THEN failures + 1 ELSE 1 END,
         updated_at = excluded.updated_at
       RETURNING failures`,
    );
    const lock = db.prepare<[number, string]>('UPDATE failed_logins SET locked_until = ? WHERE key = ?');
    this.#add = db.transaction((key: string, now: number, lockFor: (failures: number) => number) => {
      const row = count.get(key, now, now - FAILURE_MEMORY_MS);
      const duration = lockFor(row?.failures ?? 1);
      if (duration > 0) lock.run(now + duration, key);
    });
    this.#clear = db.prepare<[string]>('DELETE FROM failed_logins WHERE key = ?');
    this.#remember = db.prepare<[string, string, number]>(
      `INSERT INTO sign_in_networks (account, network, last_success_at) VALUES (?, ?, ?)
       ON CONFLICT (account, network) DO UPDATE SET last_success_at = excluded.last_success_at`,
    );
    this.#knows = db.prepare<[string, string, number], { found: number }>(
      'SELECT 1 AS found FROM sign_in_networks WHERE account = ? AND network = ? AND last_success_at >= ?',
    );
    this.#pruneFailures = db.prepare<[number, number]>(
      'DELETE FROM failed_logins WHERE key IN (SELECT key FROM failed_logins WHERE updated_at <= ? LIMIT ?)',
    );
    this.#pruneNetworks = db.prepare<[number, number]>(
      `DELETE FROM sign_in_networks WHERE (account, network) IN
         (SELECT account, network FROM sign_in_networks WHERE last_success_at < ? LIMIT ?)`,
    );
  }

  async lockedUntil(key: string, now: number): Promise<number> {
    return this.#get.get(key, now - FAILURE_MEMORY_MS)?.locked_until ?? 0;
  }

  async addFailure(key: string, now: number, lockFor: (failures: number) => number): Promise<void> {
    this.#add(key, now, lockFor);
  }

  async clear(key: string): Promise<void> {
    this.#clear.run(key);
  }

  async rememberNetwork(account: string, network: string, now: number): Promise<void> {
    this.#remember.run(account, network, now);
  }

  async knowsNetwork(account: string, network: string, since: number): Promise<boolean> {
    return this.#knows.get(account, network, since) !== undefined;
  }

  /** Deletes up to `limit` forgotten counts and as many forgotten networks; returns how many went. */
  prune(now: number, limit: number): number {
    return this.#pruneFailures.run(now - FAILURE_MEMORY_MS, limit).changes + this.#pruneNetworks.run(now - KNOWN_NETWORK_MS, limit).changes;
  }
}
