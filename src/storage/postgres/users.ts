/**
 * Accounts in PostgreSQL. The unique index on lower(username) (migrations/postgres/001)
 * makes usernames unique without regard to case, so of racing sign-ups on any number of
 * instances one wins and the others get unique_violation (23505). prune() clears sign-up
 * key hashes once they can complete nothing (SIGNUP_KEY_MS after the account was made).
 */
import { SIGNUP_KEY_MS, UsernameTakenError, type AccountSummary, type User, type UserRepository } from '../ports.js';
import type { PgPool } from './pool.js';

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  /** BIGINT: pg returns it as a string. */
  created_at: string;
  signup_key_hash: string | null;
  disabled_at: string | null;
}

interface SummaryRow {
  id: number;
  username: string;
  created_at: string;
  disabled_at: string | null;
  totp: boolean;
  /** count(*): a BIGINT, as a string. */
  passkeys: string;
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

  async findById(id: number): Promise<User | undefined> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    return rows[0] && toUser(rows[0]);
  }

  async setDisabled(id: number, disabledAt: number | undefined): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE users SET disabled_at = $1 WHERE id = $2', [disabledAt ?? null, id]);
    return rowCount === 1;
  }

  async list(afterId: number, limit: number): Promise<AccountSummary[]> {
    const { rows } = await this.pool.query<SummaryRow>(
      `SELECT id, username, created_at, disabled_at, EXISTS (SELECT 1 FROM totp_factors WHERE user_id = users.id) AS totp,
         (SELECT count(*) FROM passkeys WHERE user_id = users.id) AS passkeys
       FROM users WHERE id > $1 ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      username: row.username,
      createdAt: Number(row.created_at),
      disabledAt: row.disabled_at === null ? undefined : Number(row.disabled_at),
      totp: row.totp,
      passkeys: Number(row.passkeys),
    }));
  }

  /** The identity column never hands out an id twice; passkeys and events go by ON DELETE CASCADE. */
  async delete(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM users WHERE id = $1', [id]);
    return rowCount === 1;
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
  if (row.disabled_at !== null) user.disabledAt = Number(row.disabled_at);
  return user;
}
