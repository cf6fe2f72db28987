import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createClient } from 'redis';
import { openStores } from '../../src/storage/index.js';
import { TEST_REDIS_URL, redisPrefix } from '../helpers/services.js';
import { call, storageContract, tempDir } from './contract.js';


async function openOnRedis(t: TestContext, dataDir: string, prefix: string) {
  const stores = await openStores({ dataDir, redisUrl: TEST_REDIS_URL, redisKeyPrefix: prefix, pruneIntervalMs: 0 });
  t.after(() => stores.close());
  return stores;
}

storageContract('Redis', async (t) => {
  const dataDir = tempDir(t);
  const prefix = redisPrefix(t);
  return { open: () => openOnRedis(t, dataDir, prefix) };
});

test('Redis: every key lives under the prefix and expires by itself', async (t) => {
  const prefix = redisPrefix(t);
  const stores = await openOnRedis(t, tempDir(t), prefix);
  const now = Date.now();
  await stores.spentChallenges.claim('id', now + 120_000);
  await stores.webauthnChallenges.put('challenge', { purpose: 'sign-in', userId: undefined, expiresAt: now + 120_000 });
  await stores.failedLogins.tryAttempt([{ key: 'account:alice', rule: { after: 1, baseMs: 60_000, maxMs: 60_000 }, enforce: true }], now);
  await stores.deviceTokens.trust('device', 1, now + 120_000, now);
  await stores.deviceTokens.revokeAll(2, now);
  await stores.attackSignals.record(true, now);
  await call((cb) => stores.sessionStore.set('sid', { cookie: { expires: new Date(now + 60_000), originalMaxAge: 60_000 } }, cb));
  await call((cb) => stores.sessionStore.destroy('sid', cb));
  await call((cb) => stores.sessionStore.set('kept', { cookie: { expires: new Date(now + 60_000), originalMaxAge: 60_000 } }, cb));
  const signedIn = { cookie: { expires: new Date(now + 60_000), originalMaxAge: 60_000 }, user: { id: 1, username: 'alice', signedInAt: now } };
  await call((cb) => stores.sessionStore.set('signed-in', signedIn, cb));
  const limiter = stores.rateLimitStore?.('images');
  await limiter?.init?.({ windowMs: 60_000 } as never);
  await limiter?.increment('192.0.2.1');

  const client = createClient({ url: TEST_REDIS_URL });
  await client.connect();
  t.after(() => client.close());
  const keys = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*` })) keys.push(...batch);
  assert.deepEqual(
    keys.map((key) => key.slice(prefix.length).replace(/:.*/, ':')).sort(),
    ['attack:', 'device-epoch:', 'device:', 'failures:', 'rl:', 'sess-destroyed:', 'sess-user:', 'sess:', 'sess:', 'spent:', 'webauthn:'],
    'one key of each kind (two sessions), all under the prefix',
  );
  for (const key of keys) assert.ok((await client.pTTL(key)) > 0, `${key} expires`);
});

test("Redis: an account's sorted set holds exactly its live sessions and expires with the last of them", async (t) => {
  const prefix = redisPrefix(t);
  const stores = await openOnRedis(t, tempDir(t), prefix);
  const client = createClient({ url: TEST_REDIS_URL });
  await client.connect();
  t.after(() => client.close());
  const now = Date.now();
  const signedIn = (expiresInMs: number) => ({ cookie: { expires: new Date(now + expiresInMs), originalMaxAge: expiresInMs }, user: { id: 7, username: 'alice', signedInAt: now } });
  const index = `${prefix}sess-user:7`;
  const members = async () => (await client.zRange(index, 0, -1)).sort();
  for (const [sid, ms] of [['one', 60_000], ['two', 120_000], ['three', 180_000]] as const) await call((cb) => stores.sessionStore.set(sid, signedIn(ms), cb));
  assert.deepEqual(await members(), ['one', 'three', 'two']);
  const ttl = await client.pTTL(index);
  assert.ok(ttl > 170_000 && ttl <= 180_000, `the set lives as long as its last session (${ttl} ms)`);

  await call((cb) => stores.sessionStore.destroy('one', cb));
  assert.deepEqual(await members(), ['three', 'two'], 'destroy() takes the sid out in its own script');
  await call((cb) => stores.sessionStore.set('two', signedIn(-1_000), cb));
  assert.deepEqual(await members(), ['three'], 'so does a write with an expired cookie');
  assert.equal(await stores.sessionIndex.destroyAllFor(7), 1);
  assert.equal(await client.exists(index), 0, 'nothing is left once every session is gone');
});
