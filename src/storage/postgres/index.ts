/**
 * The PostgreSQL back-end (DATABASE_URL): the durable records several instances share,
 * the accounts with their passkeys, TOTP factors and security events. Migrations are
 * applied before the stores are handed out. Accounts, passkeys and factors do not expire;
 * prune() clears sign-up key hashes past their use and forgets events by age and count
 * (activity.ts).
 */
import type { ActivityStore, PasskeyRepository, TotpRepository, UserRepository } from '../ports.js';
import { PostgresActivityStore } from './activity.js';
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
  activity: ActivityStore;
  ping: () => Promise<void>;
  /** Clears up to one batch of sign-up key hashes past SIGNUP_KEY_MS, and prunes a batch of events; resolves how many rows. */
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
  const activity = new PostgresActivityStore(pool);
  return {
    pool,
    users,
    passkeys: new PostgresPasskeyRepository(pool),
    totp: new PostgresTotpRepository(pool),
    activity,
    ping: async () => {
      await pool.query('SELECT 1');
    },
    prune: async () => {
      const now = clock();
      return (await users.prune(now, PRUNE_BATCH)) + (await activity.prune(now, PRUNE_BATCH));
    },
    close: () => pool.end(),
  };
}
