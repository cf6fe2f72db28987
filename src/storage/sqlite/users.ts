/**
 * Accounts in SQLite. The NOCASE unique column makes usernames unique without regard to
 * case, so two racing sign-ups cannot both win.
 */
import { UsernameTakenError, type User, type UserRepository } from '../ports.js';
import type { SqliteDatabase } from './database.js';

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  created_at: number;
}

export class SqliteUserRepository implements UserRepository {
  readonly #find;
  readonly #insert;
  readonly #now: () => number;

  constructor(db: SqliteDatabase, clock: () => number = Date.now) {
    this.#find = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
    this.#insert = db.prepare<[string, string, number], UserRow>(
      'INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) RETURNING *',
    );
    this.#now = clock;
  }

  async findByUsername(username: string): Promise<User | undefined> {
    const row = this.#find.get(username);
    return row && toUser(row);
  }

  async create(username: string, passwordHash: string): Promise<User> {
    try {
      const row = this.#insert.get(username, passwordHash, this.#now());
      if (!row) throw new Error('INSERT … RETURNING gave no row');
      return toUser(row);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new UsernameTakenError(username);
      throw err;
    }
  }
}

function toUser(row: UserRow): User {
  return { id: row.id, username: row.username, passwordHash: row.password_hash, createdAt: row.created_at };
}
