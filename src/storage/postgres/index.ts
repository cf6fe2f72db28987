/**
 * The PostgreSQL back-end (DATABASE_URL): the durable records several instances share,
 * the accounts with their passkeys and TOTP factors. Migrations are applied before the stores are handed out.
 * Nothing here expires; prune() only clears sign-up key hashes past their use.
 */
import type { PasskeyRepository, TotpRepository, UserRepository } from '../ports.js';
import { PostgresPasskeyRepository } from './passkeys.js';
import { createPool, migratePostgres, type PgPool } from './pool.js';
import { PostgresTotpRepository } from './totp.js';
import { PostgresUserRepository } from './users.js';

/** Rows one prune() call changes: a short statement, like SQLite's batches. */
const PRUNE_BATCH = 500;

export interface PostgresStores {
  pool: PgPool;
  users: UserRepository;
  passkeys: PasskeyRepository;
  totp: TotpRepository;
  ping: () => Promise<void>;
  /** Clears up to one batch of sign-up key hashes past SIGNUP_KEY_MS; resolves how many. */
  prune: () => Promise<number>;
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
  const users = new PostgresUserRepository(pool, clock);
  return {
    pool,
    users,
    passkeys: new PostgresPasskeyRepository(pool),
    totp: new PostgresTotpRepository(pool),
    ping: async () => {
      await pool.query('SELECT 1');
    },
    prune: () => users.prune(clock(), PRUNE_BATCH),
    close: () => pool.end(),
  };
}
