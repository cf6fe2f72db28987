/**
 * Known devices in SQLite: one row per (token hash, account id) with its expiry. trust()
 * is one transaction, so moving a browser's accounts to its renewed token and adding the
 * account that signed in cannot interleave with another sign-in from the same browser.
 */
import type { DeviceTokenStore } from '../ports.js';
import type { SqliteDatabase } from './database.js';

export class SqliteDeviceTokenStore implements DeviceTokenStore {
  readonly #trust;
  readonly #knows;
  readonly #revoke;
  readonly #revokeAll;
  readonly #prune;

  constructor(db: SqliteDatabase) {
    const forgetExpired = db.prepare<[string, number]>('DELETE FROM device_tokens WHERE token_hash = ? AND expires_at <= ?');
    const move = db.prepare<[string, string]>('UPDATE device_tokens SET token_hash = ? WHERE token_hash = ?');
    const upsert = db.prepare<[string, number, number]>(
      `INSERT INTO device_tokens (token_hash, account_id, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (token_hash, account_id) DO UPDATE SET expires_at = excluded.expires_at`,
    );
    this.#trust = db.transaction((tokenHash: string, accountId: number, expiresAt: number, now: number, previousHash: string | undefined) => {
      if (previousHash !== undefined && previousHash !== tokenHash) {
        forgetExpired.run(previousHash, now);
        move.run(tokenHash, previousHash);
      }
      upsert.run(tokenHash, accountId, expiresAt);
    });
    this.#knows = db.prepare<[string, number, number], { found: number }>(
      'SELECT 1 AS found FROM device_tokens WHERE token_hash = ? AND account_id = ? AND expires_at > ?',
    );
    this.#revoke = db.prepare<[string, number]>('DELETE FROM device_tokens WHERE token_hash = ? AND account_id = ?');
    this.#revokeAll = db.prepare<[number]>('DELETE FROM device_tokens WHERE account_id = ?');
    this.#prune = db.prepare<[number, number]>(
      `DELETE FROM device_tokens WHERE (token_hash, account_id) IN
         (SELECT token_hash, account_id FROM device_tokens WHERE expires_at <= ? LIMIT ?)`,
    );
  }

  async trust(tokenHash: string, accountId: number, expiresAt: number, now: number, previousHash?: string): Promise<void> {
    this.#trust.immediate(tokenHash, accountId, expiresAt, now, previousHash);
  }

  async knows(tokenHash: string, accountId: number, now: number): Promise<boolean> {
    return this.#knows.get(tokenHash, accountId, now) !== undefined;
  }

  async revoke(tokenHash: string, accountId: number): Promise<void> {
    this.#revoke.run(tokenHash, accountId);
  }

  async revokeAll(accountId: number): Promise<void> {
    this.#revokeAll.run(accountId);
  }

  /** Deletes up to `limit` expired pairs; returns how many went. */
  prune(now: number, limit: number): number {
    return this.#prune.run(now, limit).changes;
  }
}
