/**
 * The pg Pool the PostgreSQL stores share, and the migrations it applies at start-up.
 *
 * Every wait is bounded: a connection must be made within CONNECT_TIMEOUT_MS, and the
 * server cancels a statement after STATEMENT_TIMEOUT_MS (the client gives up a little
 * later, should the server not answer at all), so a request never hangs on the database.
 * An idle client that loses its connection emits 'error' on the pool; without a
 * listener that would end the process.
 *
 * Migrations (migrations/postgres/NNN_name.sql) run under a session advisory lock, so of
 * several instances starting at once one applies them and the others then find them
 * applied; each runs in a transaction with its schema_migrations row.
 */
import pg from 'pg';
import { migrationsDir, readMigrations } from '../migration-files.js';

const CONNECT_TIMEOUT_MS = 2_000;
const STATEMENT_TIMEOUT_MS = 2_000;
const QUERY_TIMEOUT_MS = 3_000;
/** pg_advisory_lock's key for this app's migrations (any constant; "capt" in ASCII). */
const MIGRATION_LOCK = 0x63617074;

export type PgPool = pg.Pool;

export function createPool(connectionString: string, onError: (err: unknown) => void): PgPool {
  const pool = new pg.Pool({
    connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    max: 10,
  });
  pool.on('error', onError);
  return pool;
}

/** Applies the migrations the database has not had yet; returns the versions applied. */
export async function migratePostgres(pool: PgPool, dir = migrationsDir('postgres')): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const done = new Set(rows.map((row) => row.version));
      const applied: number[] = [];
      for (const migration of readMigrations(dir).filter((m) => !done.has(m.version))) {
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
        applied.push(migration.version);
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
