/**
 * The lockout over HTTP: the locks and their growth, counts keyed by the account found
 * (one account, one set of counts, however its name is typed, on every back-end), known
 * devices (their own count; never refused by anyone else's failures), and no failure
 * counted for a request that ended in 503.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createClient } from 'redis';
import { DEVICE_COOKIE_NAME } from '../../src/auth/devices.js';
import { LOCKOUT_DEFAULTS, createLockout, lockRules, networkOf } from '../../src/auth/lockout.js';
import type { StorageConfig } from '../../src/storage/index.js';
import { DEVICE_TRUST_MS, FAILURE_MEMORY_MS, StoreUnavailableError, lockDuration } from '../../src/storage/ports.js';
import { build, type BuildOptions, type TestApp } from '../helpers/build.js';
import { assertError, assertSignedInResponse, loadCaptcha, openForm, postForm, signIn, type Agent, type Credentials } from '../helpers/flows.js';
import { tcpProxy } from '../helpers/proxy.js';
import { TEST_REDIS_URL, postgresDatabase, redisPrefix } from '../helpers/services.js';
import { waitUntil } from '../helpers/wait.js';
import { withOverrides } from '../helpers/overrides.js';

const alice = { username: 'alice', password: 'correct horse battery' };
const wrong = { username: 'alice', password: 'not the password' };

test('the lock grows from 1 minute, doubling, capped at 15 minutes', () => {
  const minutes = [4, 5, 6, 7, 8, 9, 10, 40].map((failures) => lockDuration(lockRules(LOCKOUT_DEFAULTS).network, failures) / 60_000);
  assert.deepEqual(minutes, [0, 1, 2, 4, 8, 15, 15, 15]);
});

test('five failures lock the account; a locked account answers exactly like a wrong password', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const wrongAnswers = [];
  for (let i = 0; i < 5; i += 1) wrongAnswers.push((await signIn(app, app.agent(), wrong)).body);
  const locked = await signIn(app, app.agent(), alice);
  assertError(locked, 401, 'bad_credentials');
  assert.deepEqual(locked.body, wrongAnswers[0], 'same body as a wrong password');
  assert.equal(locked.headers['retry-after'], undefined, 'nothing tells the account is locked');
  // ...and the one message claims no cause it did not check: it names both.
  assert.match(locked.body.error.message, /Wrong username or password, or too many failed attempts/);

  app.clock.advance(60_001);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
});

test('the lock doubles with each failure past the threshold, and success clears the count', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  for (let i = 0; i < 5; i += 1) await signIn(app, app.agent(), wrong);
  app.clock.advance(60_001);
  await signIn(app, app.agent(), wrong);
  app.clock.advance(60_001);
  assertError(await signIn(app, app.agent(), alice), 401, 'bad_credentials');
  app.clock.advance(60_000);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
  for (let i = 0; i < 4; i += 1) await signIn(app, app.agent(), wrong);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
});

/** The count under a key (LIKE pattern: the test client's network depends on how supertest connects; alice is account 1). */
const failuresOf = (app: TestApp, key: string) =>
  (app.db.prepare('SELECT failures FROM failed_logins WHERE key LIKE ?').get(key) as { failures: number } | undefined)?.failures ?? 0;

test('a burst of concurrent guesses gets five comparisons, not one per request', async (t) => {
  // Room for all twelve in the hashing queue: this is about the lockout, not the queue (test/auth/hashing.test.ts).
  const app = await build(t, { scryptUnknownQueue: 12 });
  await app.createUser(alice.username, alice.password);
  const ready = [];
  for (let i = 0; i < 12; i += 1) {
    const agent = app.agent();
    const captchaId = await openForm(agent);
    ready.push({ agent, captchaId, captcha: await loadCaptcha(app, agent, captchaId) });
  }
  const answers = await Promise.all(ready.map(({ agent, captchaId, captcha }) => postForm(agent, '/login', { ...wrong, captcha, captchaId })));
  for (const res of answers) assertError(res, 401, 'bad_credentials');
  assert.equal(failuresOf(app, 'network:id:1@%'), LOCKOUT_DEFAULTS.afterFailures, 'the refused seven were not counted');
  // Twelve counted failures would lock for 15 minutes; five lock for the first minute only.
  app.clock.advance(LOCKOUT_DEFAULTS.baseMs + 1);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
});

test('a right password takes back the failure its attempt was counted as', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  for (let i = 0; i < 3; i += 1) await signIn(app, app.agent(), wrong);
  assert.equal(failuresOf(app, 'account:id:1'), 3);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
  assert.equal(failuresOf(app, 'account:id:1'), 3, 'the account count stays as it was');
  assert.equal(failuresOf(app, 'network:id:1@%'), 0, 'the network count is cleared');
});

/** Signs in as a client at `ip` (the app trusts one proxy hop, so X-Forwarded-For is the address); a new client unless `agent` is given. */
async function signInFrom(app: TestApp, ip: string, credentials: Credentials, agent: Agent = app.agent()) {
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(app, agent, captchaId);
  return postForm(agent, '/login', { ...credentials, captcha, captchaId }).set('X-Forwarded-For', ip);
}

test('networks are /24 for IPv4 and /64 for IPv6', () => {
  assert.equal(networkOf('203.0.113.7'), '203.0.113.0/24');
  assert.equal(networkOf('::ffff:203.0.113.7'), '203.0.113.0/24');
  assert.equal(networkOf('2001:db8:0:12:a::1'), '2001:db8:0:12::/64');
  assert.equal(networkOf('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(networkOf('::1'), '0:0:0:0::/64');
  assert.equal(networkOf(undefined), 'unknown');
});

test('one failure each time the lock ends keeps the guesser out, never the owner', async (t) => {
  const app = await build(t, { trustProxyHops: 1 });
  await app.createUser(alice.username, alice.password);
  const attacker = '203.0.113.7';
  const owner = '198.51.100.20';
  for (let i = 0; i < 5; i += 1) assertError(await signInFrom(app, attacker, wrong), 401, 'bad_credentials');
  assertError(await signInFrom(app, attacker, alice), 401, 'bad_credentials');
  for (let round = 0; round < 6; round += 1) {
    assertSignedInResponse(await signInFrom(app, owner, alice));
    app.clock.advance(LOCKOUT_DEFAULTS.maxMs + 1);
    assertError(await signInFrom(app, attacker, wrong), 401, 'bad_credentials');
  }
  assertSignedInResponse(await signInFrom(app, '192.0.2.9', alice));
  assertError(await signInFrom(app, attacker, alice), 401, 'bad_credentials');
});

test('failures are counted for unknown names too, without regard to case', async (t) => {
  const app = await build(t, { lockout: { afterFailures: 2 } });
  await app.createUser(alice.username, alice.password);
  await signIn(app, app.agent(), { username: 'ALICE', password: 'nope nope' });
  await signIn(app, app.agent(), { username: 'Alice', password: 'nope nope' });
  assertError(await signIn(app, app.agent(), alice), 401, 'bad_credentials');
  assert.equal(failuresOf(app, 'account:name:ghost'), 0);
  await signIn(app, app.agent(), { username: 'GHOST', password: 'nope nope' });
  assert.equal(failuresOf(app, 'account:name:ghost'), 1, 'an unknown name is counted under its lowercased form');
});

/** The back-ends the lockout must hold on: counts and devices in SQLite, or in Redis with the accounts in PostgreSQL. */
const backEnds: Record<string, (t: TestContext) => Promise<Partial<StorageConfig> | undefined>> = {
  SQLite: async () => undefined,
  'PostgreSQL + Redis': async (t) => ({ databaseUrl: await postgresDatabase(t), redisUrl: TEST_REDIS_URL, redisKeyPrefix: redisPrefix(t) }),
};

/** Every failure count above 0, by key, from whichever back-end holds them. */
async function countsOf(app: TestApp, storage: Partial<StorageConfig> | undefined): Promise<Record<string, number>> {
  if (!storage?.redisUrl) {
    const rows = app.db.prepare('SELECT key, failures FROM failed_logins WHERE failures > 0').all() as Array<{ key: string; failures: number }>;
    return Object.fromEntries(rows.map((row) => [row.key, row.failures]));
  }
  const prefix = `${storage.redisKeyPrefix}failures:`;
  const client = createClient({ url: storage.redisUrl });
  await client.connect();
  try {
    const counts: Record<string, number> = {};
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) {
      for (const key of keys) {
        const failures = Number(await client.hGet(key, 'failures'));
        if (failures > 0) counts[key.slice(prefix.length)] = failures;
      }
    }
    return counts;
  } finally {
    await client.close();
  }
}

/** The device cookie a sign-in answer set (name=value), if any. */
function deviceCookieOf(res: { headers: Record<string, unknown> }): string | undefined {
  const cookies = ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []);
  return cookies.find((cookie) => cookie.startsWith(`${DEVICE_COOKIE_NAME}=`));
}

/** A new client that presents `cookie` (name=value) as its device cookie. */
function clientWithDevice(app: TestApp, cookie: string): Agent {
  const agent = app.agent();
  agent.jar.setCookie(`${cookie}; Path=/`, '127.0.0.1', '/');
  return agent;
}

/** The unknown clients' budget used up: ACCOUNT_LOCK_ALL_NETWORKS_AFTER_FAILURES failures, four networks, five each. */
async function campaign(app: TestApp, name = 'alice') {
  for (let i = 0; i < LOCKOUT_DEFAULTS.accountAfterFailures; i += 1) {
    assertError(await signInFrom(app, `10.0.${i % 4}.1`, { username: name, password: 'not the password' }), 401, 'bad_credentials');
  }
}

for (const [backEnd, storageFor] of Object.entries(backEnds)) {
  const setup = async (t: TestContext, options: BuildOptions = {}) => {
    const storage = await storageFor(t);
    const app = await build(t, { trustProxyHops: 1, storage, ...options });
    await app.createUser(alice.username, alice.password);
    return { app, storage };
  };

  const dotted = { username: 'al\u0130ce', password: alice.password };

  test(`${backEnd}: five failures as alice lock her network for alice typed any way (alİce, which PostgreSQL folds to alice, too)`, async (t) => {
    const { app, storage } = await setup(t);
    for (let i = 0; i < LOCKOUT_DEFAULTS.afterFailures; i += 1) assertError(await signInFrom(app, '198.51.100.7', wrong), 401, 'bad_credentials');
    assertError(await signInFrom(app, '198.51.100.7', dotted), 401, 'bad_credentials');
    assertError(await signInFrom(app, '198.51.100.7', { ...alice, username: 'ALICE' }), 401, 'bad_credentials');
    assert.deepEqual(
      Object.keys(await countsOf(app, storage)).sort(),
      ['account:id:1', 'network:id:1@198.51.100.0/24'],
      'one set of counts, keyed by the account; the dotted name counted nowhere',
    );
    app.clock.advance(LOCKOUT_DEFAULTS.baseMs + 1);
    assertSignedInResponse(await signInFrom(app, '198.51.100.7', { ...alice, username: 'Alice' }));
  });

  test(`${backEnd}: twenty failures over four networks lock alice for new clients, typed any way (ALİCE too)`, async (t) => {
    const { app } = await setup(t);
    await campaign(app);
    for (const username of ['AL\u0130CE', 'ALICE', 'alice']) {
      assertError(await signInFrom(app, '192.0.2.9', { ...alice, username }), 401, 'bad_credentials');
    }
    app.clock.advance(LOCKOUT_DEFAULTS.maxMs + 1);
    assertSignedInResponse(await signInFrom(app, '192.0.2.9', { ...alice, username: 'ALICE' }));
  });

  test(`${backEnd}: the device cookie is signed and httpOnly; the known device signs in through a campaign that locks every unknown client`, async (t) => {
    const { app } = await setup(t);
    const phone = app.agent();
    const first = await signInFrom(app, '198.51.100.20', alice, phone);
    assertSignedInResponse(first);
    const cookie = deviceCookieOf(first);
    assert.ok(cookie, 'a sign-in sets the device cookie');
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.match(cookie, new RegExp(`; Max-Age=${DEVICE_TRUST_MS / 1000}`));
    assert.match(cookie, new RegExp(`^${DEVICE_COOKIE_NAME.replace('.', '\\.')}=[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{43};`), 'a random token and its signature');

    await campaign(app);
    assertError(await signInFrom(app, '192.0.2.9', alice), 401, 'bad_credentials');
    // From a network the campaign locked, even: nobody else's failures refuse a known device.
    const again = await signInFrom(app, '10.0.1.1', alice, phone);
    assertSignedInResponse(again);
    assert.notEqual(deviceCookieOf(again)?.split(';')[0], cookie.split(';')[0], 'each sign-in renews the token');
    assertError(await signInFrom(app, '192.0.2.9', alice), 401, 'bad_credentials');
  });

  test(`${backEnd}: a known device's own failures lock only that device`, async (t) => {
    const { app, storage } = await setup(t);
    const laptop = app.agent();
    assertSignedInResponse(await signInFrom(app, '198.51.100.20', alice, laptop));
    for (let i = 0; i < LOCKOUT_DEFAULTS.afterFailures; i += 1) assertError(await signInFrom(app, '198.51.100.20', wrong, laptop), 401, 'bad_credentials');
    assertError(await signInFrom(app, '198.51.100.20', alice, laptop), 401, 'bad_credentials');
    const counts = await countsOf(app, storage);
    assert.deepEqual(Object.values(counts), [LOCKOUT_DEFAULTS.afterFailures], 'one count: the device\'s');
    assert.match(Object.keys(counts)[0] ?? '', /^device:id:1@[0-9a-f]{64}$/);
    // A new client on the same network is not refused.
    assertSignedInResponse(await signInFrom(app, '198.51.100.20', alice));
    app.clock.advance(LOCKOUT_DEFAULTS.baseMs + 1);
    assertSignedInResponse(await signInFrom(app, '198.51.100.20', alice, laptop));
  });

  test(`${backEnd}: a forged, unsigned, superseded, revoked or expired device token is an unknown client`, async (t) => {
    const { app } = await setup(t);
    const phone = app.agent();
    const first = deviceCookieOf(await signInFrom(app, '198.51.100.20', alice, phone));
    assert.ok(first);
    const pair = first.split(';')[0] ?? '';
    const [token = '', signature = ''] = pair.slice(DEVICE_COOKIE_NAME.length + 1).split('.');
    const current = deviceCookieOf(await signInFrom(app, '198.51.100.20', alice, phone))?.split(';')[0] ?? '';
    await campaign(app);
    const forged = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    // An unsigned token, a forged signature, the token before the last sign-in.
    for (const cookie of [`${DEVICE_COOKIE_NAME}=${token}`, `${DEVICE_COOKIE_NAME}=${token}.${forged}`, pair]) {
      assertError(await signInFrom(app, '192.0.2.9', alice, clientWithDevice(app, cookie)), 401, 'bad_credentials');
    }
    // A copy of the current cookie is the device.
    assertSignedInResponse(await signInFrom(app, '192.0.2.9', alice, clientWithDevice(app, current)));

    const renewed = deviceCookieOf(await signInFrom(app, '192.0.2.9', alice, phone))?.split(';')[0] ?? '';
    await app.stores.deviceTokens.revokeAll(1, app.clock.now());
    assertError(await signInFrom(app, '192.0.2.9', alice, clientWithDevice(app, renewed)), 401, 'bad_credentials');

    // Expired: trusted at a sign-in, then unused for DEVICE_TRUST_MS (a fresh campaign, since counts are forgotten in a day).
    app.clock.advance(LOCKOUT_DEFAULTS.maxMs + 1);
    const tablet = app.agent();
    assertSignedInResponse(await signInFrom(app, '198.51.100.30', alice, tablet));
    app.clock.advance(DEVICE_TRUST_MS - FAILURE_MEMORY_MS);
    await campaign(app);
    // Still known just before its expiry (and renewed by this sign-in).
    assertSignedInResponse(await signInFrom(app, '198.51.100.30', alice, tablet));
    app.clock.advance(DEVICE_TRUST_MS);
    await campaign(app);
    assertError(await signInFrom(app, '198.51.100.30', alice, tablet), 401, 'bad_credentials');
  });

  test(`${backEnd}: one browser is a known device of each account it signed in to`, async (t) => {
    const { app } = await setup(t);
    await app.createUser('bob', 'another long password');
    const bob = { username: 'bob', password: 'another long password' };
    const shared = app.agent();
    assertSignedInResponse(await signInFrom(app, '198.51.100.20', alice, shared));
    assertSignedInResponse(await signInFrom(app, '198.51.100.20', bob, shared));
    await campaign(app, 'alice');
    await campaign(app, 'bob');
    // Alice too, though bob's sign-in renewed the token.
    assertSignedInResponse(await signInFrom(app, '192.0.2.9', alice, shared));
    assertSignedInResponse(await signInFrom(app, '192.0.2.9', bob, shared));
  });

  test(`${backEnd}: a name that cannot be signed up is refused before any lookup, captcha or count`, async (t) => {
    let lookups = 0;
    const { app, storage } = await setup(t, {
      users: (real) => withOverrides(real, { findByUsername: (name) => ((lookups += 1), real.findByUsername(name)) }),
    });
    const agent = app.agent();
    const captchaId = await openForm(agent);
    const captcha = await loadCaptcha(app, agent, captchaId);
    for (const username of ['al\u0130ce', 'a b', 'x', `${'a'.repeat(33)}`]) {
      assertError(await postForm(agent, '/login', { username, password: alice.password, captcha, captchaId }), 401, 'bad_credentials');
    }
    assert.equal(lookups, 0);
    assert.deepEqual(await countsOf(app, storage), {});
    // The captcha was not spent by them.
    assertSignedInResponse(await postForm(agent, '/login', { ...alice, captcha, captchaId }));
  });
}

test('an outage of the accounts store counts nothing: five 503s, then the right password signs in', async (t) => {
  let down = false;
  const app = await build(t, {
    users: (real) =>
      withOverrides(real, {
        findByUsername: async (name) => {
          if (down) throw new StoreUnavailableError(new Error('connection refused'));
          return real.findByUsername(name);
        },
      }),
  });
  await app.createUser(alice.username, alice.password);
  down = true;
  for (let i = 0; i < LOCKOUT_DEFAULTS.afterFailures; i += 1) assertError(await signIn(app, app.agent(), alice), 503, 'store_unavailable');
  assert.deepEqual(await countsOf(app, undefined), {}, 'no failure counted for a 503');
  down = false;
  assertSignedInResponse(await signIn(app, app.agent(), alice));
});

test('PostgreSQL cut (through a proxy), the counts in Redis: five 503s count nothing, and once it is back the right password signs in', async (t) => {
  const database = new URL(await postgresDatabase(t));
  const proxy = await tcpProxy(t, { host: database.hostname, port: Number(database.port || 5432) });
  database.host = `127.0.0.1:${proxy.port}`;
  const storage = { databaseUrl: database.toString(), redisUrl: TEST_REDIS_URL, redisKeyPrefix: redisPrefix(t) };
  const app = await build(t, { storage });
  await app.createUser(alice.username, alice.password);
  await proxy.cut();
  for (let i = 0; i < LOCKOUT_DEFAULTS.afterFailures; i += 1) assertError(await signIn(app, app.agent(), alice), 503, 'store_unavailable');
  assert.deepEqual(await countsOf(app, storage), {}, 'no failure counted for a 503');
  await proxy.restore();
  await waitUntil(async () => (await app.agent().get('/readyz')).status === 200, 5_000, '/readyz to answer 200');
  assertSignedInResponse(await signIn(app, app.agent(), alice));
});

test('an attempt that ends without a verdict takes back every count it took, once', async (t) => {
  const app = await build(t);
  const lockout = createLockout(app.stores.failedLogins, { ...LOCKOUT_DEFAULTS, afterFailures: 2, accountAfterFailures: 2 }, app.clock.now);
  const client = { account: 'id:7', network: '192.0.2.0/24' };
  for (let i = 0; i < 5; i += 1) {
    const attempt = await lockout.begin(client);
    assert.ok(attempt, `attempt ${i + 1} is not refused: the abandoned ones counted nothing`);
    await attempt.abandon();
    await attempt.abandon();
  }
  assert.deepEqual(await countsOf(app, undefined), {});
  const succeeded = await lockout.begin(client);
  await (await lockout.begin(client))?.abandon();
  await succeeded?.succeeded();
  await succeeded?.abandon();
  assert.deepEqual(await countsOf(app, undefined), {}, 'a success then a 503 takes its count back once');
});

test("a success whose take-back failed (a store error: the request's 503) leaves the rest to abandon(), which takes each count back once", async (t) => {
  const app = await build(t);
  let failRefunds = true;
  const store = app.stores.failedLogins;
  const flaky = withOverrides(store, {
    refund: async (reservation) => {
      if (failRefunds) throw new StoreUnavailableError(new Error('connection reset'));
      return store.refund(reservation);
    },
  });
  const lockout = createLockout(flaky, LOCKOUT_DEFAULTS, app.clock.now);
  const attempt = await lockout.begin({ account: 'id:9', network: '192.0.2.0/24' });
  assert.ok(attempt);
  // The network's count is cleared, the account's budget cannot be refunded: the route answers 503.
  await assert.rejects(attempt.succeeded(), StoreUnavailableError);
  failRefunds = false;
  await attempt.abandon();
  await attempt.abandon();
  assert.deepEqual(await countsOf(app, undefined), {}, 'no failure left for a request answered 503');
});
