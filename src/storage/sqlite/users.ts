/**
 * Accounts in SQLite. The NOCASE unique column makes usernames unique without regard to
 * case, so two racing sign-ups cannot both win. prune() clears sign-up key hashes once
 * they can complete nothing (SIGNUP_KEY_MS after the account was made).
 *
 * An id is never given twice: SQLite would reuse a deleted account's id when it was the
 * highest, and sessions, known devices and lockout counts (some on Redis) are kept under
 * it. delete() keeps the highest deleted id in retired_user_ids, and create() takes the
 * next id above it and every live one, in its one INSERT (one writer at a time).
 */
import { SIGNUP_KEY_MS, UsernameTakenError, type AccountSummary, type User, type UserRepository } from '../ports.js';
import type { SqliteDatabase } from './database.js';

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  created_at: number;
  signup_key_hash: string | null;
  disabled_at: number | null;
}

interface SummaryRow {
  id: number;
  username: string;
  created_at: number;
  disabled_at: number | null;
  totp: number;
  passkeys: number;
}

export class SqliteUserRepository implements UserRepository {
  readonly #find;
  readonly #findById;
  readonly #insert;
  readonly #setDisabled;
  readonly #list;
  readonly #delete;
  readonly #clearKeys;
  readonly #setHash;
  readonly #now: () => number;

  constructor(db: SqliteDatabase, clock: () => number = Date.now) {
    this.#find = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
    this.#findById = db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?');
    this.#insert = db.prepare<[string, string, number, string | null], UserRow>(
      `INSERT INTO users (id, username, password_hash, created_at, signup_key_hash)
       VALUES (max(coalesce((SELECT max(id) FROM users), 0), coalesce((SELECT max(id) FROM retired_user_ids), 0)) + 1, ?, ?, ?, ?)
       RETURNING *`,
    );
    this.#setDisabled = db.prepare<[number | null, number]>('UPDATE users SET disabled_at = ? WHERE id = ?');
    this.#list = db.prepare<[number, number], SummaryRow>(
      `SELECT id, username, created_at, disabled_at, EXISTS (SELECT 1 FROM totp_factors WHERE user_id = users.id) AS totp,
         (SELECT count(*) FROM passkeys WHERE user_id = users.id) AS passkeys
       FROM users WHERE id > ? ORDER BY id LIMIT ?`,
    );
    const remove = db.prepare<[number]>('DELETE FROM users WHERE id = ?');
    const retire = db.prepare<[number]>('INSERT OR IGNORE INTO retired_user_ids (id) VALUES (?)');
    const keepHighest = db.prepare('DELETE FROM retired_user_ids WHERE id < (SELECT max(id) FROM retired_user_ids)');
    this.#delete = db.transaction((id: number): boolean => {
      if (remove.run(id).changes === 0) return false;
      retire.run(id);
      keepHighest.run();
      return true;
    });
    this.#clearKeys = db.prepare<[number, number]>(
      'UPDATE users SET signup_key_hash = NULL WHERE id IN (SELECT id FROM users WHERE signup_key_hash IS NOT NULL AND created_at < ? LIMIT ?)',
    );
    this.#setHash = db.prepare<[string, number]>('UPDATE users SET password_hash = ? WHERE id = ?');
    this.#now = clock;
  }

  async findByUsername(username: string): Promise<User | undefined> {
    const row = this.#find.get(username);
    return row && toUser(row);
  }

  async findById(id: number): Promise<User | undefined> {
    const row = this.#findById.get(id);
    return row && toUser(row);
  }

  async create(username: string, passwordHash: string, signupKeyHash?: string): Promise<User> {
    try {
      const row = this.#insert.get(username, passwordHash, this.#now(), signupKeyHash ?? null);
      if (!row) throw new Error('INSERT … RETURNING gave no row');
      return toUser(row);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new UsernameTakenError(username);
      throw err;
    }
  }

  async setPasswordHash(userId: number, passwordHash: string): Promise<boolean> {
    return this.#setHash.run(passwordHash, userId).changes === 1;
  }

  async setDisabled(id: number, disabledAt: number | undefined): Promise<boolean> {
    return this.#setDisabled.run(disabledAt ?? null, id).changes === 1;
  }

  async list(afterId: number, limit: number): Promise<AccountSummary[]> {
    return this.#list.all(afterId, limit).map((row) => ({
      id: row.id,
      username: row.username,
      createdAt: row.created_at,
      disabledAt: row.disabled_at ?? undefined,
      totp: row.totp === 1,
      passkeys: row.passkeys,
    }));
  }

  async delete(id: number): Promise<boolean> {
    return this.#delete.immediate(id);
  }

  /** Clears the sign-up key hash of up to `limit` accounts made SIGNUP_KEY_MS before `now`; returns how many. */
  prune(now: number, limit: number): number {
    return this.#clearKeys.run(now - SIGNUP_KEY_MS, limit).changes;
  }
}

function toUser(row: UserRow): User {
  const user: User = { id: row.id, username: row.username, passwordHash: row.password_hash, createdAt: row.created_at };
  if (row.signup_key_hash !== null) user.signupKeyHash = row.signup_key_hash;
  if (row.disabled_at !== null) user.disabledAt = row.disabled_at;
  return user;
}
