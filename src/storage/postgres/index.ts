/**
 * The PostgreSQL back-end (DATABASE_URL): the durable records several instances share,
 * the accounts. Migrations are applied before the stores are handed out.
 */
import type { UserRepository } from '../ports.js';
import { createPool, migratePostgres, type PgPool } from './pool.js';
import { PostgresUserRepository } from './users.js';

export interface PostgresStores {
  pool: PgPool;
  users: UserRepository;
  ping: () => Promise<void>;
  close: () => Promise<void>;
}

export async function openPostgresStores(url: string, clock: () => number, onError: (err: unknown) => void): Promise<PostgresStores> {
  const pool = createPool(url, onError);
  try {
    await migratePostgres(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return {
    pool,
    users: new PostgresUserRepository(pool, clock),
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}
