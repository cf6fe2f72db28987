/**
 * The user repository: the only code that knows where accounts are kept.
 *
 * Usernames are unique without regard to case (Alice and alice are one account), which
 * SQLite enforces with a NOCASE unique column, so two racing sign-ups cannot both win.
 */
import type { SqliteDatabase } from '../sqlite.js';

export interface User {
  id: number;
  username: string;
  passwordHash: string;
  createdAt: number;
}

export interface UserRepository {
  findByUsername(username: string): Promise<User | undefined>;
  /** Throws UsernameTakenError when the name (in any case) exists. */
  create(username: string, passwordHash: string): Promise<User>;
}

export class UsernameTakenError extends Error {
  override name = 'UsernameTakenError';
}

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
    db.exec(`CREATE TABLE IF NOT EXISTS users (
      id INTEGER PRIMARY KEY,
      username TEXT NOT NULL UNIQUE COLLATE NOCASE,
      password_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL
    )`);
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
