/**
 * The PostgreSQL back-end (DATABASE_URL): the durable records several instances share,
 * the accounts and their passkeys. Migrations are applied before the stores are handed out.
 */
import type { PasskeyRepository, UserRepository } from '../ports.js';
import { PostgresPasskeyRepository } from './passkeys.js';
import { createPool, migratePostgres, type PgPool } from './pool.js';
import { PostgresUserRepository } from './users.js';

export interface PostgresStores {
  pool: PgPool;
  users: UserRepository;
  passkeys: PasskeyRepository;
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
    passkeys: new PostgresPasskeyRepository(pool),
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}
