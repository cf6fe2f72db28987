/**
 * Accounts in SQLite. The NOCASE unique column makes usernames unique without regard to
 * case, so two racing sign-ups cannot both win. prune() clears sign-up key hashes once
 * they can complete nothing (SIGNUP_KEY_MS after the account was made).
 */
import { SIGNUP_KEY_MS, UsernameTakenError, type User, type UserRepository } from '../ports.js';
import type { SqliteDatabase } from './database.js';

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  created_at: number;
  signup_key_hash: string | null;
}

export class SqliteUserRepository implements UserRepository {
  readonly #find;
  readonly #insert;
  readonly #clearKeys;
  readonly #setHash;
  readonly #now: () => number;

  constructor(db: SqliteDatabase, clock: () => number = Date.now) {
    this.#find = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
    this.#insert = db.prepare<[string, string, number, string | null], UserRow>(
      'INSERT INTO users (username, password_hash, created_at, signup_key_hash) VALUES (?, ?, ?, ?) RETURNING *',
    );
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

  /** Clears the sign-up key hash of up to `limit` accounts made SIGNUP_KEY_MS before `now`; returns how many. */
  prune(now: number, limit: number): number {
    return this.#clearKeys.run(now - SIGNUP_KEY_MS, limit).changes;
  }
}

function toUser(row: UserRow): User {
  const user: User = { id: row.id, username: row.username, passwordHash: row.password_hash, createdAt: row.created_at };
  if (row.signup_key_hash !== null) user.signupKeyHash = row.signup_key_hash;
  return user;
}
