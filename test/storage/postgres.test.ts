import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { openStores, type StorageOptions } from '../../src/storage/index.js';
import { createPool, migratePostgres } from '../../src/storage/postgres/pool.js';
import { TEST_REDIS_URL, postgresDatabase, redisPrefix } from '../helpers/services.js';
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

test('PostgreSQL: a statement that runs too long is cancelled by the server', async (t) => {
  const pool = createPool(await postgresDatabase(t), () => {});
  t.after(() => pool.end());
  assert.deepEqual((await pool.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows, [{ statement_timeout: '2s' }]);
  const started = Date.now();
  await assert.rejects(pool.query('SELECT pg_sleep(10)'), (err: { code?: string }) => err.code === '57014');
  assert.ok(Date.now() - started < 5_000);
});
