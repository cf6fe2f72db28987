import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { openStores, type StorageOptions } from '../../src/storage/index.js';
import { MIGRATION_LOCK, createPool, migratePostgres } from '../../src/storage/postgres/pool.js';
import { SIGNUP_KEY_MS } from '../../src/storage/ports.js';
import { TEST_REDIS_URL, postgresDatabase, redisPrefix } from '../helpers/services.js';
import { waitUntil } from '../helpers/wait.js';
import { storageContract, tempDir } from './contract.js';


function opener(t: TestContext, options: StorageOptions) {
  return async () => {
    const stores = await openStores({ ...options, pruneIntervalMs: 0 });
    t.after(() => stores.close());
    return stores;
  };
}

storageContract('PostgreSQL', async (t) => ({ open: opener(t, { dataDir: tempDir(t), databaseUrl: await postgresDatabase(t) }) }));

storageContract('Redis + PostgreSQL', async (t) => ({
  open: opener(t, { dataDir: tempDir(t), databaseUrl: await postgresDatabase(t), redisUrl: TEST_REDIS_URL, redisKeyPrefix: redisPrefix(t) }),
}));

test('PostgreSQL: with Redis too, no SQLite file is opened', async (t) => {
  const dataDir = tempDir(t);
  const stores = await opener(t, { dataDir, databaseUrl: await postgresDatabase(t), redisUrl: TEST_REDIS_URL, redisKeyPrefix: redisPrefix(t) })();
  assert.equal(stores.db, undefined);
  assert.equal(await stores.prune(), 0);
});

test('PostgreSQL: pruning clears a sign-up key hash once SIGNUP_KEY_MS has passed, and keeps the account', async (t) => {
  let now = Date.UTC(2026, 0, 1);
  const storage = { dataDir: tempDir(t), databaseUrl: await postgresDatabase(t), redisUrl: TEST_REDIS_URL, redisKeyPrefix: redisPrefix(t) };
  const stores = await opener(t, { ...storage, clock: () => now })();
  await stores.users.create('grace', 'hash', 'ab'.repeat(32));
  await stores.users.create('heidi', 'hash');
  now += SIGNUP_KEY_MS;
  assert.equal(await stores.prune(), 0, 'not sooner');
  now += 1;
  assert.equal(await stores.prune(), 1);
  const grace = await stores.users.findByUsername('grace');
  assert.equal(grace?.signupKeyHash, undefined);
  assert.equal(grace?.passwordHash, 'hash', 'the account stays');
  assert.equal(await stores.prune(), 0);
});

async function query<R extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

test('PostgreSQL: instances starting together apply each migration once, under the advisory lock', async (t) => {
  const url = await postgresDatabase(t);
  const dataDir = tempDir(t);
  await Promise.all(Array.from({ length: 4 }, () => opener(t, { dataDir, databaseUrl: url })()));
  const rows = await query<{ version: number; name: string }>(url, 'SELECT version, name FROM schema_migrations ORDER BY version');
  assert.deepEqual(rows, [
    { version: 1, name: 'accounts' },
    { version: 2, name: 'passkeys' },
    { version: 3, name: 'signup_keys' },
    { version: 4, name: 'totp' },
    { version: 5, name: 'activity' },
  ]);
  const pool = createPool(url, () => {});
  t.after(() => pool.end());
  assert.deepEqual(await migratePostgres(pool), [], 'a later start applies nothing');
});

test('PostgreSQL: the database itself refuses a username that differs only in case', async (t) => {
  const url = await postgresDatabase(t);
  const stores = await opener(t, { dataDir: tempDir(t), databaseUrl: url })();
  await stores.users.create('alice', 'hash');
  await assert.rejects(query(url, "INSERT INTO users (username, password_hash, created_at) VALUES ('ALICE', 'h', 0)"), /users_username_lower/);
});

test('PostgreSQL: a statement that runs too long is cancelled by the server, before the client gives up', async (t) => {
  const pool = createPool(await postgresDatabase(t), () => {});
  t.after(() => pool.end());
  assert.deepEqual((await pool.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows, [{ statement_timeout: '800ms' }]);
  const started = Date.now();
  // 57014 (query_canceled) is the server's answer: the connection stays usable.
  await assert.rejects(pool.query('SELECT pg_sleep(10)'), (err: { code?: string }) => err.code === '57014');
  assert.ok(Date.now() - started < 2_000);
});

test('PostgreSQL: migrations wait for the lock longer than a request may, on a client that is not pooled', async (t) => {
  const url = await postgresDatabase(t);
  const pool = createPool(url, () => {});
  t.after(() => pool.end());
  const holder = new pg.Client({ connectionString: url });
  holder.on('error', () => {}); // the database is dropped under it if the test fails early
  await holder.connect();
  await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  const migrating = migratePostgres(pool);
  migrating.catch(() => {}); // awaited below; a failure must not surface as unhandled first
  // Held past the request limits (statement 800 ms, client 1 s): the migration waits, it does not fail.
  await waitUntil(
    async () =>
      (
        await holder.query(`SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
          WHERE l.locktype = 'advisory' AND NOT l.granted AND now() - a.query_start > interval '1500 ms'`)
      ).rowCount === 1,
    5_000,
    'the migration to wait 1.5 s for the lock',
  );
  await holder.end();
  assert.ok((await migrating).length > 0, 'the migrations were applied once the lock was free');
  assert.deepEqual((await pool.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows, [{ statement_timeout: '800ms' }], 'no pooled client kept the start-up limit');
});
