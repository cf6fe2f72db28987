import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { SessionData } from 'express-session';
import { PRUNE_BATCH, SqliteSessionStore } from '../../src/session/sqlite-store.js';
import { openDatabase } from '../../src/sqlite.js';

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

function storeFor(t: TestContext) {
  const dir = mkdtempSync(path.join(tmpdir(), 'session-store-'));
  const file = path.join(dir, 'db.sqlite');
  let now = 1_000_000;
  const db = openDatabase(file);
  const store = new SqliteSessionStore({ db, pruneIntervalMs: 0, clock: () => now });
  t.after(() => {
    store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const call = <T>(fn: (cb: (err: unknown, value?: T) => void) => void) =>
    new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(asError(err)) : resolve(value))));
  return {
    store,
    db,
    file,
    advance: (ms: number) => (now += ms),
    record: (expiresInMs: number, user?: string): SessionData =>
      ({ cookie: { expires: new Date(now + expiresInMs), originalMaxAge: expiresInMs }, ...(user ? { user: { id: 1, username: user, signedInAt: now } } : {}) }),
    get: (sid: string) => call<SessionData | null>((cb) => store.get(sid, cb)),
    set: (sid: string, data: SessionData) => call<void>((cb) => store.set(sid, data, cb)),
    touch: (sid: string, data: SessionData) => call<void>((cb) => store.touch(sid, data, cb)),
    destroy: (sid: string) => call<void>((cb) => store.destroy(sid, cb)),
    length: () => call<number>((cb) => store.length(cb)),
  };
}

test('a stored session reads back until it expires', async (t) => {
  const s = storeFor(t);
  await s.set('a', s.record(60_000, 'alice'));
  assert.equal((await s.get('a'))?.user?.username, 'alice');
  assert.equal(await s.get('missing'), null);
  s.advance(60_001);
  assert.equal(await s.get('a'), null, 'an expired session is not returned');
});

test('set replaces, touch extends, destroy removes', async (t) => {
  const s = storeFor(t);
  await s.set('a', s.record(1_000, 'alice'));
  await s.set('a', s.record(1_000, 'bob'));
  assert.equal((await s.get('a'))?.user?.username, 'bob');
  s.advance(900);
  await s.touch('a', s.record(1_000));
  s.advance(900);
  assert.equal((await s.get('a'))?.user?.username, 'bob', 'touch moved the expiry');
  await s.destroy('a');
  assert.equal(await s.get('a'), null);
});

test('a destroyed session stays destroyed: a late write of its old copy is ignored', async (t) => {
  const s = storeFor(t);
  await s.set('a', s.record(60_000, 'alice'));
  await s.destroy('a');
  await s.set('a', s.record(60_000, 'alice'));
  await s.touch('a', s.record(60_000, 'alice'));
  assert.equal(await s.get('a'), null, 'a request that loaded the session before destroy() cannot bring it back');
  await s.set('b', s.record(60_000, 'bob'));
  assert.equal((await s.get('b'))?.user?.username, 'bob', 'other sessions are written as usual');
  s.advance(24 * 60 * 60_000 + 1);
  assert.equal(s.store.pruneExpired(), 2, 'the tombstone is pruned a day later, with the expired session b');
  assert.equal((s.db.prepare('SELECT count(*) AS n FROM destroyed_sessions').get() as { n: number }).n, 0);
});

test('pruning deletes expired rows only, in batches, so the table stays bounded', async (t) => {
  const s = storeFor(t);
  const expiring = PRUNE_BATCH + 50;
  for (let i = 0; i < expiring; i += 1) await s.set(`short-${i}`, s.record(1_000));
  await s.set('long', s.record(60_000));
  assert.equal(await s.length(), expiring + 1);
  s.advance(2_000);
  assert.equal(s.store.pruneExpired(), PRUNE_BATCH);
  assert.equal(s.store.pruneExpired(), 50);
  assert.equal(s.store.pruneExpired(), 0);
  const rows = s.db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number };
  assert.equal(rows.n, 1);
  assert.equal(await s.length(), 1);
});

test('sessions survive closing and reopening the file', async (t) => {
  const s = storeFor(t);
  await s.set('kept', s.record(60_000, 'carol'));
  const reopened = openDatabase(s.file);
  t.after(() => reopened.close());
  const store = new SqliteSessionStore({ db: reopened, pruneIntervalMs: 0, clock: () => 1_000_000 });
  const data = await new Promise<SessionData | null | undefined>((resolve, reject) => store.get('kept', (err, value) => (err ? reject(asError(err)) : resolve(value))));
  assert.equal(data?.user?.username, 'carol');
});

test('bad options are refused at construction', (t) => {
  const s = storeFor(t);
  assert.throws(() => new SqliteSessionStore({ db: s.db, pruneIntervalMs: -1 }), /pruneIntervalMs/);
  assert.throws(() => new SqliteSessionStore({ db: s.db, defaultTtlMs: 0 }), /defaultTtlMs/);
});
