/**
 * The spent-challenge ledger in SQLite: a table of used challenge ids. INSERT OR IGNORE
 * is atomic, so of two requests claiming one id only one sees a new row, even from two
 * processes on the same file. A row is kept until its challenge would have expired anyway.
 */
import type { SpentChallengeLedger } from '../ports.js';
import type { SqliteDatabase } from './database.js';

export class SqliteSpentChallengeLedger implements SpentChallengeLedger {
  readonly #insert;
  readonly #prune;

  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare<[string, number]>('INSERT OR IGNORE INTO spent_captcha_challenges (id, expires_at) VALUES (?, ?)');
    this.#prune = db.prepare<[number, number]>(
      'DELETE FROM spent_captcha_challenges WHERE id IN (SELECT id FROM spent_captcha_challenges WHERE expires_at < ? LIMIT ?)',
    );
  }

  async claim(id: string, expiresAt: number): Promise<boolean> {
    return this.#insert.run(id, expiresAt).changes === 1;
  }

  /** Deletes up to `limit` ids whose challenge has expired; returns how many went. */
  prune(now: number, limit: number): number {
    return this.#prune.run(now, limit).changes;
  }
}
