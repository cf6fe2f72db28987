import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { SessionData } from 'express-session';
import { openStores, type OpenStores } from '../../src/storage/index.js';
import { ATTACK_SIGNAL_MEMORY_MS, DEVICE_TRUST_MS, FAILURE_MEMORY_MS, SIGNUP_KEY_MS } from '../../src/storage/ports.js';
import { migrationsDir } from '../../src/storage/migration-files.js';
import { DATABASE_FILE, migrate, openDataDirDatabase } from '../../src/storage/sqlite/database.js';
import { PRUNE_BATCH } from '../../src/storage/sqlite/index.js';
import { TOMBSTONE_MS } from '../../src/storage/sqlite/session-store.js';
import { waitUntil } from '../helpers/wait.js';
import { call, storageContract, tempDir } from './contract.js';


storageContract('SQLite', async (t) => {
  const dataDir = tempDir(t, 'contract-sqlite-');
  return {
    open: async () => {
      const stores = await openStores({ dataDir, pruneIntervalMs: 0 });
      t.after(() => stores.close());
      return stores;
    },
  };
});

const modeOf = (file: string) => statSync(file).mode & 0o777;

test('the data folder is created 0700 and the database files 0600', (t) => {
  const dataDir = path.join(tempDir(t, 'data-mode-'), 'data');
  const db = openDataDirDatabase(dataDir);
  t.after(() => db.close());
  db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
  const file = path.join(dataDir, DATABASE_FILE);
  assert.equal(modeOf(dataDir).toString(8), '700');
  for (const name of [file, `${file}-wal`, `${file}-shm`]) assert.equal(modeOf(name).toString(8), '600', name);
});

test("an older install's world-readable database is tightened on open", (t) => {
  const dataDir = tempDir(t, 'data-mode-');
  const file = path.join(dataDir, DATABASE_FILE);
  writeFileSync(file, '');
  chmodSync(file, 0o644);
  openDataDirDatabase(dataDir).close();
  assert.equal(modeOf(file).toString(8), '600');
});

test('migrations are applied once, in order, and recorded', (t) => {
  const db = openDataDirDatabase(tempDir(t, 'migrate-'));
  t.after(() => db.close());
  assert.deepEqual(migrate(db), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(migrate(db), [], 'a second open applies nothing');
  const recorded = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
  assert.deepEqual(recorded, [
    { version: 1, name: 'initial' },
    { version: 2, name: 'prune_indexes' },
    { version: 3, name: 'passkeys' },
    { version: 4, name: 'signup_keys' },
    { version: 5, name: 'device_tokens' },
    { version: 6, name: 'attack_signals' },
    { version: 7, name: 'session_accounts' },
    { version: 8, name: 'totp' },
    { version: 9, name: 'activity' },
  ]);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('device_tokens', 'sign_in_networks')").all();
  assert.deepEqual(tables, [{ name: 'device_tokens' }], 'the known networks gave way to known devices');
});

test('a database made before migrations existed adopts them and keeps its rows', (t) => {
  const dataDir = tempDir(t, 'migrate-old-');
  const old = openDataDirDatabase(dataDir);
  old.exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
    INSERT INTO users (username, password_hash, created_at) VALUES ('old', 'h', 1);`);
  old.close();
  const db = openDataDirDatabase(dataDir);
  t.after(() => db.close());
  assert.deepEqual(migrate(db), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(db.prepare('SELECT username FROM users').all(), [{ username: 'old' }]);
});

test('signed-in sessions stored before the session index existed are indexed by the migration', async (t) => {
  const dataDir = tempDir(t, 'migrate-sessions-');
  // The migrations before the index (001-006), as an install of that time had them.
  const before = tempDir(t, 'migrations-');
  for (const file of readdirSync(migrationsDir('sqlite')).filter((name) => name < '007')) copyFileSync(path.join(migrationsDir('sqlite'), file), path.join(before, file));
  const old = openDataDirDatabase(dataDir);
  assert.deepEqual(migrate(old, before), [1, 2, 3, 4, 5, 6]);
  const expiresAt = Date.now() + 60_000;
  const insert = old.prepare('INSERT INTO sessions (sid, data, expires_at) VALUES (?, ?, ?)');
  insert.run('signed-in', JSON.stringify({ cookie: {}, user: { id: 7, username: 'old', signedInAt: 1 } }), expiresAt);
  insert.run('anonymous', JSON.stringify({ cookie: {} }), expiresAt);
  old.close();
  const stores = await openStores({ dataDir, pruneIntervalMs: 0 });
  t.after(() => stores.close());
  assert.deepEqual((await stores.sessionIndex.listFor(7, Date.now())).map((each) => each.sid), ['signed-in']);
  assert.equal(await stores.sessionIndex.destroyAllFor(7), 1);
});

async function storesWithClock(t: TestContext): Promise<{ stores: OpenStores; advance: (ms: number) => void }> {
  let now = Date.UTC(2026, 0, 1);
  const stores = await openStores({ dataDir: tempDir(t, 'prune-'), pruneIntervalMs: 0, clock: () => now });
  t.after(() => stores.close());
  return { stores, advance: (ms) => (now += ms) };
}

const rows = (stores: OpenStores, table: string) => (stores.db!.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

test('every growing table is pruned once its rows no longer matter, and nothing sooner', async (t) => {
  const { stores, advance } = await storesWithClock(t);
  const start = Date.UTC(2026, 0, 1);
  const session = (ms: number) => ({ cookie: { expires: new Date(start + ms), originalMaxAge: ms } }) as SessionData;
  await call((cb) => stores.sessionStore.set('short', session(60_000), cb));
  await call((cb) => stores.sessionStore.set('long', session(3 * 24 * 60 * 60_000), cb));
  await call((cb) => stores.sessionStore.set('gone', session(60_000), cb));
  await call((cb) => stores.sessionStore.destroy('gone', cb));
  await stores.spentChallenges.claim('spent', start + 120_000);
  await stores.webauthnChallenges.put('issued', { purpose: 'sign-in', userId: undefined, expiresAt: start + 120_000 });
  await stores.failedLogins.tryAttempt([{ key: 'account:x', rule: { after: 5, baseMs: 60_000, maxMs: 60_000 }, enforce: true }], start);
  await stores.deviceTokens.trust('device', 1, start + DEVICE_TRUST_MS, start);
  await stores.attackSignals.record(true, start);
  assert.equal(await stores.prune(), 0, 'nothing has expired yet');

  advance(120_001);
  assert.equal(await stores.prune(), 3, 'the expired session, the spent captcha challenge and the WebAuthn challenge');
  assert.equal(rows(stores, 'attack_signals'), 1, 'attack signals are read for ATTACK_SIGNAL_MEMORY_MS');
  advance(ATTACK_SIGNAL_MEMORY_MS);
  assert.equal(await stores.prune(), 1, 'the old attack signal bucket');
  assert.equal(rows(stores, 'sessions'), 1);
  assert.equal(rows(stores, 'spent_captcha_challenges'), 0);
  assert.equal(rows(stores, 'webauthn_challenges'), 0);

  advance(Math.max(TOMBSTONE_MS, FAILURE_MEMORY_MS));
  assert.equal(await stores.prune(), 2, 'the tombstone and the forgotten failure count');
  assert.equal(rows(stores, 'destroyed_sessions'), 0);
  assert.equal(rows(stores, 'failed_logins'), 0);
  assert.equal(rows(stores, 'device_tokens'), 1, 'a device is known for DEVICE_TRUST_MS');

  advance(DEVICE_TRUST_MS);
  assert.equal(await stores.prune(), 2, 'the expired device and the long session');
  for (const table of ['attack_signals', 'sessions', 'destroyed_sessions', 'spent_captcha_challenges', 'webauthn_challenges', 'failed_logins', 'device_tokens']) {
    assert.equal(rows(stores, table), 0, table);
  }
});

test('pruning clears a sign-up key hash once SIGNUP_KEY_MS has passed, and keeps the account', async (t) => {
  const { stores, advance } = await storesWithClock(t);
  await stores.users.create('grace', 'hash', 'ab'.repeat(32));
  await stores.users.create('heidi', 'hash');
  advance(SIGNUP_KEY_MS);
  assert.equal(await stores.prune(), 0, 'not sooner');
  advance(1);
  assert.equal(await stores.prune(), 1);
  const grace = await stores.users.findByUsername('grace');
  assert.equal(grace?.signupKeyHash, undefined);
  assert.equal(grace?.passwordHash, 'hash', 'the account stays');
  assert.equal(await stores.prune(), 0);
});

test('pruning deletes in batches, so one call never holds the event loop for long', async (t) => {
  const { stores, advance } = await storesWithClock(t);
  const expiring = PRUNE_BATCH + 50;
  for (let i = 0; i < expiring; i += 1) await stores.spentChallenges.claim(`id-${i}`, Date.UTC(2026, 0, 1) + 1_000);
  advance(2_000);
  assert.equal(await stores.prune(), PRUNE_BATCH);
  assert.equal(await stores.prune(), 50);
  assert.equal(await stores.prune(), 0);
});

test('the pruning timer runs by itself and stops at close()', async (t) => {
  const dataDir = tempDir(t, 'prune-timer-');
  const expiresAt = Date.now() - 1;
  const first = await openStores({ dataDir, pruneIntervalMs: 0 });
  await first.spentChallenges.claim('old', expiresAt);
  await first.close();
  const stores = await openStores({ dataDir, pruneIntervalMs: 5 });
  t.after(() => stores.close());
  await waitUntil(() => rows(stores, 'spent_captcha_challenges') === 0, 5_000, 'the timer to prune');
});

test('sessions survive closing and reopening the file', async (t) => {
  const dataDir = tempDir(t, 'reopen-');
  const first = await openStores({ dataDir, pruneIntervalMs: 0 });
  const record = { cookie: { expires: new Date(Date.now() + 60_000), originalMaxAge: 60_000 }, user: { id: 1, username: 'carol', signedInAt: 1 } } as SessionData;
  await call((cb) => first.sessionStore.set('kept', record, cb));
  await first.close();
  const again = await openStores({ dataDir, pruneIntervalMs: 0 });
  t.after(() => again.close());
  const data = await call<SessionData | null>((cb) => again.sessionStore.get('kept', cb));
  assert.equal(data?.user?.username, 'carol');
});
