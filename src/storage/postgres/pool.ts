/**
 * The pg Pool the PostgreSQL stores share, and the migrations it applies at start-up.
 *
 * Every wait is bounded so that a request that needs the database is answered (503 at
 * worst) within 2 s: a connection, or a free pooled client, must be had within
 * CONNECT_TIMEOUT_MS; the server cancels a statement after STATEMENT_TIMEOUT_MS; and the
 * client gives up at QUERY_TIMEOUT_MS should the server not answer at all (a hung server
 * or a network that drops packets), then the pool discards that client. Accounts are
 * index lookups and single inserts, milliseconds each, so these limits only ever meet an
 * outage. An idle client that loses its connection emits 'error' on the pool; without a
 * listener that would end the process.
 *
 * Migrations (migrations/postgres/NNN_name.sql) run under a session advisory lock, so of
 * several instances starting at once one applies them and the others then find them
 * applied; each runs in a transaction with its schema_migrations row. Waiting for the
 * lock and applying a migration may take longer than a request may, so that client
 * runs without the request limits and is closed afterwards rather than pooled.
 */
import pg from 'pg';
import { migrationsDir, readMigrations } from '../migration-files.js';

const CONNECT_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 800;
const QUERY_TIMEOUT_MS = 1_000;
/** Start-up only: how long one migration statement (or the wait for the lock) may take. */
const MIGRATION_TIMEOUT_MS = 5 * 60_000;
/** pg_advisory_lock's key for this app's migrations (any constant; "capt" in ASCII). */
export const MIGRATION_LOCK = 0x63617074;

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
  const query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
    client.query<R>({ text, values, query_timeout: MIGRATION_TIMEOUT_MS } as pg.QueryConfig);
  try {
    await query(`SET statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    await query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      const { rows } = await query<{ version: number }>('SELECT version FROM schema_migrations');
      const done = new Set(rows.map((row) => row.version));
      const applied: number[] = [];
      for (const migration of readMigrations(dir).filter((m) => !done.has(m.version))) {
        await query('BEGIN');
        try {
          await query(migration.sql);
          await query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
          await query('COMMIT');
        } catch (err) {
          await query('ROLLBACK');
          throw err;
        }
        applied.push(migration.version);
      }
      return applied;
    } finally {
      await query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    // Closed, not pooled: its session has the start-up statement timeout.
    client.release(true);
  }
}
