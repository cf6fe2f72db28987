import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lockRules, LOCKOUT_DEFAULTS, networkOf } from '../../src/auth/lockout.js';
import { lockDuration } from '../../src/storage/ports.js';
import { build, type TestApp } from '../helpers/build.js';
import { assertError, assertSignedInResponse, loadCaptcha, openForm, postForm, signIn, type Credentials } from '../helpers/flows.js';

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

/** The count under a key (LIKE pattern: the test client's network depends on how supertest connects). */
const failuresOf = (app: TestApp, key: string) =>
  (app.db.prepare('SELECT failures FROM failed_logins WHERE key LIKE ?').get(key) as { failures: number } | undefined)?.failures ?? 0;

test('a burst of concurrent guesses gets five comparisons, not one per request', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const ready = [];
  for (let i = 0; i < 12; i += 1) {
    const agent = app.agent();
    const captchaId = await openForm(agent);
    ready.push({ agent, captchaId, captcha: await loadCaptcha(app, agent, captchaId) });
  }
  const answers = await Promise.all(ready.map(({ agent, captchaId, captcha }) => postForm(agent, '/login', { ...wrong, captcha, captchaId })));
  for (const res of answers) assertError(res, 401, 'bad_credentials');
  assert.equal(failuresOf(app, 'network:alice@%'), LOCKOUT_DEFAULTS.afterFailures, 'the refused seven were not counted');
  // Twelve counted failures would lock for 15 minutes; five lock for the first minute only.
  app.clock.advance(LOCKOUT_DEFAULTS.baseMs + 1);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
});

test('a right password takes back the failure its attempt was counted as', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  for (let i = 0; i < 3; i += 1) await signIn(app, app.agent(), wrong);
  assert.equal(failuresOf(app, 'account:alice'), 3);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
  assert.equal(failuresOf(app, 'account:alice'), 3, 'the account count stays as it was');
  assert.equal(failuresOf(app, 'network:alice@%'), 0, 'the network count is cleared');
});

/** Signs in as a client at `ip` (the app trusts one proxy hop, so X-Forwarded-For is the address). */
async function signInFrom(app: TestApp, ip: string, credentials: Credentials) {
  const agent = app.agent();
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

test('guessing spread over many networks locks the account, except for networks it signed in from', async (t) => {
  const app = await build(t, { trustProxyHops: 1 });
  await app.createUser(alice.username, alice.password);
  const home = '198.51.100.20';
  assertSignedInResponse(await signInFrom(app, home, alice));
  for (let i = 0; i < LOCKOUT_DEFAULTS.accountAfterFailures; i += 1) {
    assertError(await signInFrom(app, `10.${i}.0.1`, wrong), 401, 'bad_credentials');
  }
  assertError(await signInFrom(app, '192.0.2.9', alice), 401, 'bad_credentials');
  assertSignedInResponse(await signInFrom(app, '198.51.100.99', alice));
  assertError(await signInFrom(app, '192.0.2.9', alice), 401, 'bad_credentials');
  app.clock.advance(LOCKOUT_DEFAULTS.baseMs + 1);
  assertSignedInResponse(await signInFrom(app, '192.0.2.9', alice));
});

test('failures are counted for unknown names too, without regard to case', async (t) => {
  const app = await build(t, { lockout: { afterFailures: 2 } });
  await app.createUser(alice.username, alice.password);
  await signIn(app, app.agent(), { username: 'ALICE', password: 'nope nope' });
  await signIn(app, app.agent(), { username: 'Alice', password: 'nope nope' });
  assertError(await signIn(app, app.agent(), alice), 401, 'bad_credentials');
  const rows = app.db.prepare("SELECT count(*) AS n FROM failed_logins WHERE key = 'account:ghost'").get() as { n: number };
  assert.equal(rows.n, 0);
  await signIn(app, app.agent(), { username: 'ghost', password: 'nope nope' });
  const after = app.db.prepare("SELECT failures FROM failed_logins WHERE key = 'account:ghost'").get() as { failures: number };
  assert.equal(after.failures, 1);
});
