/**
 * What the app counts (src/metrics/metrics.ts), over real HTTP on an app with a registry
 * of its own: each metric is read from the exposition text, as Prometheus reads it,
 * before and after the requests that must move it.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { createStrengthEstimator } from '../../src/auth/password-strength.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import type { UserRepository } from '../../src/storage/ports.js';
import { SoftwareAuthenticator } from '../helpers/authenticator.js';
import { build, type BuildOptions, type TestApp } from '../helpers/build.js';
import { assertError, assertSignedInResponse, csrfTokenOf, loadCaptcha, openForm, openPage, postForm, signIn, type Agent } from '../helpers/flows.js';
import { holdableFailedLogins } from '../helpers/hold.js';
import { sample } from '../helpers/metrics.js';
import { ATTACK_OFF, fixedAttackMode } from '../helpers/pow.js';
import { withOverrides } from '../helpers/overrides.js';

const PASSWORD = 'correct horse battery';
const ORIGIN = 'http://localhost:3000';

async function setup(t: TestContext, options: BuildOptions = {}): Promise<{ app: TestApp; metrics: Metrics; scrape: () => Promise<string> }> {
  const metrics = createMetrics();
  const app = await build(t, { ...options, metrics });
  return { app, metrics, scrape: () => metrics.registry.metrics() };
}

test('pictures, sounds and captcha checks by result: right, wrong, expired, missing and spent', async (t) => {
  let arrived = 0;
  let releaseBoth = () => {};
  const bothArrived = new Promise<void>((resolve) => (releaseBoth = resolve));
  let holding = false;
  // Holds sign-ins at the account lookup (after their session was loaded, before the captcha) until two are there.
  const users = (real: UserRepository): UserRepository =>
    withOverrides(real, {
      findByUsername: async (name) => {
        if (holding && ++arrived === 2) releaseBoth();
        if (holding) await bothArrived;
        return real.findByUsername(name);
      },
    });
  const { app, scrape } = await setup(t, { users });
  await app.createUser('alice', PASSWORD);
  const checks = async (result: string) => sample(await scrape(), 'captcha_login_captcha_checks_total', { result });
  assert.equal(await checks('right'), 0);

  const agent = app.agent();
  const captchaId = await openForm(agent);
  const answer = await loadCaptcha(app, agent, captchaId);
  await agent.get(`/get_validCode_audio?id=${captchaId}`).expect(200);
  await agent.get(`/get_validCode_audio?id=${captchaId}`).expect(200);
  assert.equal(sample(await scrape(), 'captcha_login_captcha_pictures_total'), 1);
  assert.equal(sample(await scrape(), 'captcha_login_captcha_sounds_total'), 2);

  assertError(await postForm(agent, '/login', { username: 'alice', password: PASSWORD, captcha: `${answer}X`, captchaId }), 400, 'captcha_wrong');
  assert.equal(await checks('wrong'), 1);

  const late = await loadCaptcha(app, agent, captchaId);
  app.clock.advance(121_000);
  assertError(await postForm(agent, '/login', { username: 'alice', password: PASSWORD, captcha: late, captchaId }), 400, 'captcha_expired');
  assert.equal(await checks('expired'), 1);

  // Used already by this session: it holds no challenge for the page any more.
  assertError(await postForm(agent, '/login', { username: 'alice', password: PASSWORD, captcha: late, captchaId }), 400, 'captcha_missing');
  assert.equal(await checks('missing'), 1);
  assert.equal(await checks('spent'), 0);

  // Two posts of one answer that both loaded the session while it still held the challenge: the ledger lets one through.
  const fresh = await loadCaptcha(app, agent, captchaId);
  holding = true;
  const posts = await Promise.all([1, 2].map(() => postForm(agent, '/login', { username: 'alice', password: PASSWORD, captcha: fresh, captchaId })));
  assert.deepEqual(posts.map((res) => res.status).sort(), [200, 400]);
  assert.equal(await checks('right'), 1);
  assert.equal(await checks('spent'), 1);
  assert.equal(await checks('missing'), 1, 'a spent challenge is not counted as missing');
  assert.equal(sample(await scrape(), 'captcha_login_captcha_pictures_total'), 3);
});

test('sign-ins by method and result, and the locks they begin (per network and for the account)', async (t) => {
  const { app, scrape } = await setup(t, { lockout: { afterFailures: 2, accountAfterFailures: 2 }, publicOrigin: ORIGIN });
  await app.createUser('alice', PASSWORD);
  await app.createUser('bob', PASSWORD);
  const signIns = async (method: string, result: string) => sample(await scrape(), 'captcha_login_sign_ins_total', { method, result });
  const lockouts = async (scope: string) => sample(await scrape(), 'captcha_login_lockouts_total', { scope });

  const guesser = app.agent();
  assertError(await signIn(app, guesser, { username: 'alice', password: 'wrong password one' }), 401, 'bad_credentials');
  assert.equal(await signIns('password', 'failure'), 1);
  assert.equal(await lockouts('network'), 0);
  // The second failure reaches both locks (2 per network, 2 over all networks).
  assertError(await signIn(app, guesser, { username: 'alice', password: 'wrong password two' }), 401, 'bad_credentials');
  assert.equal(await signIns('password', 'failure'), 2);
  assert.equal(await lockouts('network'), 1);
  assert.equal(await lockouts('account'), 1);
  // Locked: refused without a verdict, the right password too, and no new lock begins.
  assertError(await signIn(app, guesser, { username: 'alice', password: PASSWORD }), 401, 'bad_credentials');
  assert.equal(await signIns('password', 'locked'), 1);
  assert.equal(await signIns('password', 'failure'), 2);
  assert.equal(await lockouts('network'), 1);
  assert.equal(await signIns('password', 'success'), 0);

  const bob = app.agent();
  assertSignedInResponse(await signIn(app, bob, { username: 'bob', password: PASSWORD }));
  assert.equal(await signIns('password', 'success'), 1);

  // Passkeys: bob adds one, signs in with it, then a response signed by another key fails.
  const post = (agent: Agent, path: string, body: object = {}) => agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', csrfTokenOf(agent)).send(body);
  await openPage(bob, '/');
  const authenticator = new SoftwareAuthenticator(ORIGIN);
  const creation = (await post(bob, '/passkeys/options').expect(200)).body.options as PublicKeyCredentialCreationOptionsJSON;
  await post(bob, '/passkeys', { name: 'Laptop', response: authenticator.register(creation) }).expect(201);
  const passkeySignIn = async (how = {}) => {
    const visitor = app.agent();
    await openPage(visitor, '/login');
    const options = (await post(visitor, '/passkeys/sign-in/options').expect(200)).body.options as PublicKeyCredentialRequestOptionsJSON;
    return post(visitor, '/passkeys/sign-in', { response: authenticator.assert(options, 'localhost', how) });
  };
  assert.equal((await passkeySignIn()).status, 200);
  assert.equal(await signIns('passkey', 'success'), 1);
  assertError(await passkeySignIn({ signWith: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }), 401, 'passkey_failed');
  assert.equal(await signIns('passkey', 'failure'), 1);
  assert.equal(await signIns('password', 'success'), 1, 'a passkey sign-in is not counted as a password one');
  assert.equal(await lockouts('network'), 1, 'a passkey attempt begins no lock');
});

test('429s by limiter, 503s by store, and store call latency by store, method and outcome', async (t) => {
  const { app, scrape } = await setup(t, { ipRateLimits: { imagesPerMinute: 1 } });
  await app.createUser('alice', PASSWORD);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const answer = await loadCaptcha(app, agent, captchaId);
  assert.equal(sample(await scrape(), 'captcha_login_rate_limited_total'), 0);
  await agent.get(`/get_validCode_img?id=${captchaId}&n=again`).expect(429);
  assert.equal(sample(await scrape(), 'captcha_login_rate_limited_total', { limiter: 'images' }), 1);

  const calls = (labels: Record<string, string>) => sample(scraped, 'captcha_login_store_call_duration_seconds_count', labels);
  let scraped = await scrape();
  assert.ok(calls({ store: 'sessions', method: 'set', outcome: 'ok' }) >= 1, 'the picture saved its session');
  assert.equal(calls({ store: 'users', method: 'findByUsername' }), 0);
  assert.equal(sample(scraped, 'captcha_login_store_unavailable_total'), 0);

  // The accounts' table is gone: the back-end fails under the guard, which names the store.
  app.db.exec('ALTER TABLE users RENAME TO users_gone');
  assertError(await postForm(agent, '/login', { username: 'alice', password: PASSWORD, captcha: answer, captchaId }), 503, 'store_unavailable');
  scraped = await scrape();
  assert.equal(sample(scraped, 'captcha_login_store_unavailable_total', { store: 'users' }), 1);
  assert.equal(sample(scraped, 'captcha_login_store_unavailable_total'), 1);
  assert.equal(calls({ store: 'users', method: 'findByUsername', outcome: 'error' }), 1);
  assert.equal(calls({ store: 'users', method: 'findByUsername', outcome: 'ok' }), 0);

  app.db.exec('ALTER TABLE users_gone RENAME TO users');
  await agent.get(`/readyz`).expect(200);
  assert.equal(sample(await scrape(), 'captcha_login_store_call_duration_seconds_count', { store: 'ping', outcome: 'ok' }), 1);
});

test('the hashing gate, the attack-mode level and busy refusals are read at each scrape', async (t) => {
  const held = holdableFailedLogins();
  const attackMode = fixedAttackMode(ATTACK_OFF);
  const { app, scrape } = await setup(t, { failedLogins: held.wrap, scryptUnknownQueue: 0, attackMode });
  await app.createUser('alice', PASSWORD);
  assert.equal(sample(await scrape(), 'captcha_login_hashing_active'), 0);
  assert.equal(sample(await scrape(), 'captcha_login_attack_mode_level'), 0);

  const { entered, release } = held.hold();
  const first = signIn(app, app.agent(), { username: 'alice', password: PASSWORD });
  await entered;
  // The held sign-in holds the one place unknown clients may have; with no queue the next is refused.
  assert.equal(sample(await scrape(), 'captcha_login_hashing_active'), 1);
  assertError(await signIn(app, app.agent(), { username: 'alice', password: PASSWORD }), 503, 'sign_in_busy');
  assert.equal(sample(await scrape(), 'captcha_login_busy_total', { queue: 'hashing' }), 1);
  release();
  assertSignedInResponse(await first);
  assert.equal(sample(await scrape(), 'captcha_login_hashing_active'), 0);

  attackMode.set({ on: true, level: 3 });
  assert.equal(sample(await scrape(), 'captcha_login_attack_mode_level'), 3);
});

test('the strength-worker gauge counts estimates running or queued', async (t) => {
  const estimator = createStrengthEstimator();
  t.after(() => estimator.close());
  const metrics = createMetrics();
  metrics.watch({ hashing: () => ({ active: 0, waiting: 0 }), strengthInFlight: () => estimator.inFlight, attackModeLevel: () => 0 });
  const pending = [estimator.estimate('first password here'), estimator.estimate('second password here')];
  assert.equal(sample(await metrics.registry.metrics(), 'captcha_login_strength_in_flight'), 2);
  await Promise.all(pending);
  assert.equal(sample(await metrics.registry.metrics(), 'captcha_login_strength_in_flight'), 0);
});

test('no label carries a username, an address, a session or a captcha answer; each app has its own registry', async (t) => {
  const { app, scrape } = await setup(t);
  const other = await setup(t);
  await app.createUser('alice', PASSWORD);
  const agent = app.agent();
  const res = await signIn(app, agent, { username: 'alice', password: PASSWORD });
  assertSignedInResponse(res);
  const text = await scrape();
  assert.ok(sample(text, 'captcha_login_sign_ins_total') >= 1);
  for (const secret of ['alice', '127.0.0.1', PASSWORD, ...app.answers]) assert.ok(!text.includes(secret), `${secret} is in the metrics`);
  assert.equal(sample(await other.scrape(), 'captcha_login_captcha_pictures_total'), 0, 'another app counted nothing');
});
