/**
 * Accounts in PostgreSQL. The unique index on lower(username) (migrations/postgres/001)
 * makes usernames unique without regard to case, so of racing sign-ups on any number of
 * instances one wins and the others get unique_violation (23505). prune() clears sign-up
 * key hashes once they can complete nothing (SIGNUP_KEY_MS after the account was made).
 */
import { SIGNUP_KEY_MS, UsernameTakenError, type User, type UserRepository } from '../ports.js';
import type { PgPool } from './pool.js';

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  /** BIGINT: pg returns it as a string. */
  created_at: string;
  signup_key_hash: string | null;
}

const UNIQUE_VIOLATION = '23505';

export class PostgresUserRepository implements UserRepository {
  constructor(
    private readonly pool: PgPool,
    private readonly clock: () => number = Date.now,
  ) {}

  async findByUsername(username: string): Promise<User | undefined> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE lower(username) = lower($1)', [username]);
    return rows[0] && toUser(rows[0]);
  }

  async create(username: string, passwordHash: string, signupKeyHash?: string): Promise<User> {
    try {
      const { rows } = await this.pool.query<UserRow>(
        'INSERT INTO users (username, password_hash, created_at, signup_key_hash) VALUES ($1, $2, $3, $4) RETURNING *',
        [username, passwordHash, this.clock(), signupKeyHash ?? null],
      );
      if (!rows[0]) throw new Error('INSERT … RETURNING gave no row');
      return toUser(rows[0]);
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new UsernameTakenError(username);
      throw err;
    }
  }

  async setPasswordHash(userId: number, passwordHash: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE users SET password_hash = $1 WHERE id = $2', [passwordHash, userId]);
    return rowCount === 1;
  }

  /** Clears the sign-up key hash of up to `limit` accounts made SIGNUP_KEY_MS before `now`; resolves how many. */
  async prune(now: number, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      'UPDATE users SET signup_key_hash = NULL WHERE id IN (SELECT id FROM users WHERE signup_key_hash IS NOT NULL AND created_at < $1 LIMIT $2)',
      [now - SIGNUP_KEY_MS, limit],
    );
    return rowCount ?? 0;
  }
}

function toUser(row: UserRow): User {
  const user: User = { id: row.id, username: row.username, passwordHash: row.password_hash, createdAt: Number(row.created_at) };
  if (row.signup_key_hash !== null) user.signupKeyHash = row.signup_key_hash;
  return user;
}
