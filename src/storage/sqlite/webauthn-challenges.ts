/**
 * Issued WebAuthn challenges in SQLite. take() is one DELETE … RETURNING, so of any
 * number of responses naming one challenge, from any number of processes on the file,
 * exactly one gets it. Expired rows are pruned.
 */
import type { WebAuthnChallenge, WebAuthnChallengeStore } from '../ports.js';
import type { SqliteDatabase } from './database.js';

interface ChallengeRow {
  purpose: WebAuthnChallenge['purpose'];
  user_id: number | null;
  expires_at: number;
}

export class SqliteWebAuthnChallengeStore implements WebAuthnChallengeStore {
  readonly #insert;
  readonly #take;
  readonly #prune;

  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare<[string, string, number | null, number]>(
      'INSERT INTO webauthn_challenges (challenge, purpose, user_id, expires_at) VALUES (?, ?, ?, ?)',
    );
    this.#take = db.prepare<[string], ChallengeRow>('DELETE FROM webauthn_challenges WHERE challenge = ? RETURNING purpose, user_id, expires_at');
    this.#prune = db.prepare<[number, number]>(
      'DELETE FROM webauthn_challenges WHERE challenge IN (SELECT challenge FROM webauthn_challenges WHERE expires_at < ? LIMIT ?)',
    );
  }

  async put(challenge: string, record: WebAuthnChallenge): Promise<void> {
    this.#insert.run(challenge, record.purpose, record.userId ?? null, record.expiresAt);
  }

  async take(challenge: string): Promise<WebAuthnChallenge | undefined> {
    const row = this.#take.get(challenge);
    return row && { purpose: row.purpose, userId: row.user_id ?? undefined, expiresAt: row.expires_at };
  }

  /** Deletes up to `limit` expired challenges; returns how many went. */
  prune(now: number, limit: number): number {
    return this.#prune.run(now, limit).changes;
  }
}
