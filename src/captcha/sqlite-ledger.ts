/**
 * The spent-challenge ledger in SQLite: a table of used challenge ids.
 *
 * INSERT OR IGNORE is atomic, so of two requests claiming one id only one sees a new row,
 * even from two processes on the same file. A row is needed only until its challenge
 * would have expired anyway, so old rows are deleted now and then.
 */
import type { SqliteDatabase } from '../sqlite.js';
import type { SpentChallengeLedger } from './challenges.js';

const PRUNE_EVERY_CLAIMS = 500;

export class SqliteSpentChallengeLedger implements SpentChallengeLedger {
  readonly #insert;
  readonly #prune;
  readonly #now: () => number;
  #claimsSincePrune = 0;

  constructor(db: SqliteDatabase, clock: () => number = Date.now) {
    db.exec(`CREATE TABLE IF NOT EXISTS spent_captcha_challenges (
      id TEXT PRIMARY KEY,
      expires_at INTEGER NOT NULL
    ) WITHOUT ROWID`);
    this.#insert = db.prepare<[string, number]>('INSERT OR IGNORE INTO spent_captcha_challenges (id, expires_at) VALUES (?, ?)');
    this.#prune = db.prepare<[number]>('DELETE FROM spent_captcha_challenges WHERE expires_at < ?');
    this.#now = clock;
  }

  async claim(id: string, expiresAt: number): Promise<boolean> {
    this.#claimsSincePrune += 1;
    if (this.#claimsSincePrune >= PRUNE_EVERY_CLAIMS) {
      this.#claimsSincePrune = 0;
      this.#prune.run(this.#now());
    }
    return this.#insert.run(id, expiresAt).changes === 1;
  }
}
