/**
 * Store outages, for real: the app runs on a redis-server of the test's own, which the
 * test kills (or freezes) and starts again, or on the machine's PostgreSQL behind a TCP
 * proxy of the test's own, which it cuts (or makes pass nothing). Requests that need the
 * store are refused with 503 and Retry-After within 2 s (never a hang, never let
 * through), and service comes back by itself within 5 s of the store returning.
 */
import { RETRY_MS } from '../../src/attack/attack-mode.js';
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Response } from 'supertest';
import { build, type TestApp } from '../helpers/build.js';
import { assertError, loadCaptcha, openForm, postForm, type Agent } from '../helpers/flows.js';
import { tcpProxy, type TcpProxy } from '../helpers/proxy.js';
import { ownRedis, postgresDatabase } from '../helpers/services.js';
import { waitUntil } from '../helpers/wait.js';
import { tempDir } from '../storage/contract.js';
import { openStores } from '../../src/storage/index.js';
import { StoreUnavailableError } from '../../src/storage/ports.js';

const BUDGET_MS = 2_000;
const alice = { username: 'alice', password: 'correct horse battery staple' };

test('Redis down: 503 with Retry-After in time (JSON for calls, a page for pages), /readyz 503, /healthz 200; back by itself', async (t) => {
  const redis = await ownRedis(t);
  const app = await build(t, { storage: { redisUrl: redis.url }, ipRateLimits: { imagesPerMinute: 1_000 } });
  const agent = app.agent();
  await agent.get('/get_validCode_img?id=p1').expect(200);
  await agent.get('/readyz').expect(200);

  await redis.stop();
  assertUnavailable(await within('a picture', () => agent.get('/get_validCode_img?id=p1')));
  const page = await agent.get('/login').set('Accept', 'text/html');
  assert.equal(page.status, 503, 'a page that reads the session is refused too');
  assert.match(page.text, /briefly unavailable/);
  const fresh = await app.agent().get('/get_validCode_img?id=p2');
  assert.equal(fresh.status, 503, 'a picture without a session is refused as well: its limit cannot be counted');
  await app.agent().get('/readyz').expect(503);
  await app.agent().get('/healthz').expect(200);
  assert.doesNotMatch(app.logs(), /"level":50/, 'no error-level log: an outage is not a bug');

  await redis.start();
  const back = Date.now();
  await waitUntil(async () => (await agent.get('/get_validCode_img?id=p1')).status === 200, 5_000, 'service to come back');
  assert.ok(Date.now() - back < 5_000);
  await app.agent().get('/readyz').expect(200);
});

test('Redis hung (accepts connections, answers nothing): 503 in time, nothing let through; back by itself', { timeout: 30_000 }, async (t) => {
  const redis = await ownRedis(t);
  const app = await build(t, { storage: { redisUrl: redis.url }, ipRateLimits: { imagesPerMinute: 1_000, postsPerMinute: 100, postsPerHour: 1_000 } });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent, '/login');
  const captcha = await loadCaptcha(app, agent, captchaId);

  redis.freeze();
  assertUnavailable(await within('a picture', () => agent.get('/get_validCode_img?id=p1')));
  assertUnavailable(await within('POST /login', () => postForm(agent, '/login', { ...alice, captcha, captchaId })));
  await within('/readyz', () => app.agent().get('/readyz').expect(503));
  await within('/healthz', () => app.agent().get('/healthz').expect(200));
  // Several at once: none waits behind another.
  const pictures = await within('ten pictures at once', () => Promise.all(Array.from({ length: 10 }, (_, i) => app.agent().get(`/get_validCode_img?id=q${i}`))));
  assert.deepEqual(pictures.map((res) => res.status), Array(10).fill(503));

  redis.thaw();
  await assertServiceBack(app);
});

test('Redis down while a per-IP limit is set up (its scripts cannot load): it counts by itself once Redis is back', async (t) => {
  const redis = await ownRedis(t);
  const stores = await openStores({ dataDir: tempDir(t), redisUrl: redis.url, pruneIntervalMs: 0 });
  t.after(() => stores.close());
  assert.ok(stores.rateLimitStore, 'Redis holds the per-IP counters');
  await redis.stop();
  const limit = stores.rateLimitStore('posts');
  // What express-rate-limit does when the app is made: loads the counting scripts.
  await assert.rejects(async () => limit.init?.({ windowMs: 60_000 } as Parameters<NonNullable<typeof limit.init>>[0]), /offline|closed/i);
  await assert.rejects(async () => limit.increment('192.0.2.1'), StoreUnavailableError, 'refused while Redis is away');

  await redis.start();
  const back = Date.now();
  await waitUntil(
    async () => {
      try {
        return (await limit.increment('192.0.2.1')).totalHits === 1;
      } catch {
        return false;
      }
    },
    5_000,
    'the limit to count again',
  );
  assert.ok(Date.now() - back < 5_000);
  assert.equal((await limit.increment('192.0.2.1')).totalHits, 2);
  assert.equal((await limit.get?.('192.0.2.1'))?.totalHits, 2);
});

/** Times a request; fails the test if it took the whole budget. */
async function within<T>(what: string, request: () => PromiseLike<T>): Promise<T> {
  const started = Date.now();
  const result = await request();
  const ms = Date.now() - started;
  assert.ok(ms < BUDGET_MS, `${what} answered in ${ms} ms`);
  return result;
}

function assertUnavailable(res: Response): void {
  assertError(res, 503, 'store_unavailable');
  assert.equal(res.headers['retry-after'], '5');
}

/** Accounts in PostgreSQL, reached through a proxy of this test's own (the rest in SQLite). */
async function appOnProxiedPostgres(t: TestContext): Promise<{ app: TestApp; proxy: TcpProxy }> {
  const database = new URL(await postgresDatabase(t));
  const proxy = await tcpProxy(t, { host: database.hostname, port: Number(database.port || 5432) });
  database.host = `127.0.0.1:${proxy.port}`;
  const app = await build(t, { storage: { databaseUrl: database.toString() } });
  await app.createUser(alice.username, alice.password);
  return { app, proxy };
}

/** Opens `page`, answers its captcha right and posts alice's details (as zh-CN when asked). */
async function postRightCaptcha(app: TestApp, agent: Agent, page: '/login' | '/register', body = alice, language = 'en'): Promise<Response> {
  const captchaId = await openForm(agent, page);
  const captcha = await loadCaptcha(app, agent, captchaId);
  return within(`POST ${page}`, () => postForm(agent, page, { ...body, captcha, captchaId }).set('Accept-Language', language));
}

/** While PostgreSQL is away: accounts are refused in time, in the asker's language; the rest stays up. */
async function assertAccountsUnavailable(app: TestApp): Promise<void> {
  const agent = app.agent();
  assertUnavailable(await postRightCaptcha(app, agent, '/login'));
  const zh = await postRightCaptcha(app, app.agent(), '/login', alice, 'zh-CN');
  assertUnavailable(zh);
  assert.match(zh.body.error.message, /服务暂时不可用/);
  assertUnavailable(await postRightCaptcha(app, agent, '/register', { username: 'bob', password: 'another long password' }));
  await within('/readyz', () => app.agent().get('/readyz').expect(503));
  await within('/healthz', () => app.agent().get('/healthz').expect(200));
  await within('the login page (no account needed)', () => app.agent().get('/login').expect(200));
}

async function assertServiceBack(app: TestApp): Promise<void> {
  const back = Date.now();
  // The app's (manual) clock moves on as real time does: attack mode remembers a failed read
  // of its counters for RETRY_MS before it asks them again.
  app.clock.advance(RETRY_MS);
  await waitUntil(async () => (await app.agent().get('/readyz')).status === 200, 5_000, '/readyz to answer 200');
  const signedIn = await postRightCaptcha(app, app.agent(), '/login');
  assert.deepEqual(signedIn.body, { ok: true, redirect: '/' });
  assert.ok(Date.now() - back < 5_000, `back after ${Date.now() - back} ms`);
}

test('PostgreSQL cut (proxy closed, connections reset): accounts answer 503 in time, /readyz 503, /healthz 200; back by itself', async (t) => {
  const { app, proxy } = await appOnProxiedPostgres(t);
  assert.deepEqual((await postRightCaptcha(app, app.agent(), '/login')).body, { ok: true, redirect: '/' }, 'signed in through the proxy');

  await proxy.cut();
  await assertAccountsUnavailable(app);
  assert.doesNotMatch(app.logs(), /"level":50/, 'no error-level log: an outage is not a bug');

  await proxy.restore();
  await assertServiceBack(app);
});

test('PostgreSQL hung (connections accepted, nothing answered): accounts answer 503 in time; back by itself', { timeout: 30_000 }, async (t) => {
  const { app, proxy } = await appOnProxiedPostgres(t);
  // A pooled connection exists, so the hang meets both a query on an open connection and new connections.
  assert.deepEqual((await postRightCaptcha(app, app.agent(), '/login')).body, { ok: true, redirect: '/' });

  proxy.hang();
  await assertAccountsUnavailable(app);

  await proxy.restore();
  await assertServiceBack(app);
});
