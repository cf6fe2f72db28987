/**
 * Accounts in PostgreSQL. The unique index on lower(username) (migrations/postgres/001)
 * makes usernames unique without regard to case, so of racing sign-ups on any number of
 * instances one wins and the others get unique_violation (23505).
 */
import { UsernameTakenError, type User, type UserRepository } from '../ports.js';
import type { PgPool } from './pool.js';

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  /** BIGINT: pg returns it as a string. */
  created_at: string;
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

  async create(username: string, passwordHash: string): Promise<User> {
    try {
      const { rows } = await this.pool.query<UserRow>(
        'INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3) RETURNING *',
        [username, passwordHash, this.clock()],
      );
      if (!rows[0]) throw new Error('INSERT … RETURNING gave no row');
      return toUser(rows[0]);
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new UsernameTakenError(username);
      throw err;
    }
  }
}

function toUser(row: UserRow): User {
  return { id: row.id, username: row.username, passwordHash: row.password_hash, createdAt: Number(row.created_at) };
}
