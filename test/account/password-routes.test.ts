import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOCKOUT_DEFAULTS } from '../../src/auth/lockout.js';
import { verifyPassword } from '../../src/auth/passwords.js';
import { StoreUnavailableError } from '../../src/storage/ports.js';
import { build, type TestApp } from '../helpers/build.js';
import { assertError, assertSignedInResponse, assertSignedOut, csrfTokenOf, openPage, signIn, type Agent } from '../helpers/flows.js';
import { withOverrides } from '../helpers/overrides.js';
import { RECENT_SIGN_IN_MS } from '../../src/session/timeouts.js';

const alice = { username: 'alice', password: 'correct horse battery staple' };
const NEW = 'violet kettle drums at midnight';

function change(agent: Agent, body: Record<string, unknown>) {
  return agent.post('/account/password').set('Accept', 'application/json').set('X-CSRF-Token', csrfTokenOf(agent)).send(body);
}

async function signedIn(app: TestApp): Promise<Agent> {
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  return agent;
}

const hashOf = async (app: TestApp) => (await app.stores.users.findByUsername('alice'))?.passwordHash ?? '';

test('changing the password signs out every other session; this one stays signed in, and the new password is the one that works', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  await app.createUser('bob', alice.password);
  const here = await signedIn(app);
  const elsewhere = await signedIn(app);
  const bob = app.agent();
  assertSignedInResponse(await signIn(app, bob, { ...alice, username: 'bob' }));
  const page = await openPage(here, '/account/password');
  assert.match(page.text, /autocomplete="current-password"/);
  assert.match(page.text, /href="\/account\/password" aria-current="page"/);

  const answer = await change(here, { current: alice.password, password: NEW, confirm: NEW }).expect(200);
  assert.deepEqual(answer.body, { ok: true, count: 1, message: 'Your password was changed. Signed out everywhere else (1).' });
  await here.get('/').expect(200);
  await assertSignedOut(elsewhere);
  await bob.get('/').expect(200);
  assert.equal(await verifyPassword(NEW, await hashOf(app)), true);
  assertError(await signIn(app, app.agent(), alice), 401, 'bad_credentials');
  assertSignedInResponse(await signIn(app, app.agent(), { ...alice, password: NEW }));
  await app.agent().get('/account/password').expect(303).expect('location', '/login');
});

test('the current password may be left out only within 10 minutes of signing in', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const here = await signedIn(app);
  const recent = await openPage(here, '/account/password');
  assert.match(recent.text, /you may leave this empty/);
  app.clock.advance(RECENT_SIGN_IN_MS + 1);
  const later = await openPage(here, '/account/password?lang=zh-CN');
  assert.doesNotMatch(later.text, /current-password-help/);
  assert.match(later.text, /修改密码/);
  assertError(await change(here, { password: NEW, confirm: NEW }), 403, 'current_password_required');
  assertError(await change(here, { current: '', password: NEW, confirm: NEW }), 403, 'current_password_required');
  const before = await hashOf(app);

  const fresh = await signedIn(app);
  await openPage(fresh, '/account/password');
  assert.equal((await change(fresh, { password: NEW, confirm: NEW }).expect(200)).body.count, 1, 'the older session is signed out');
  assert.notEqual(await hashOf(app), before);
});

test('bad input is refused and changes nothing: rules, differing confirmation, malformed bodies, signed out, cross-site', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const here = await signedIn(app);
  const elsewhere = await signedIn(app);
  await openPage(here, '/account/password');
  const before = await hashOf(app);
  const current = alice.password;
  assertError(await change(here, { current, password: NEW, confirm: `${NEW}!` }), 400, 'passwords_differ');
  assertError(await change(here, { current, password: 'short', confirm: 'short' }), 400, 'invalid_password');
  assertError(await change(here, { current, password: 'alice12345', confirm: 'alice12345' }), 400, 'weak_password');
  for (const body of [{}, { current, password: NEW }, { current: 42, password: NEW, confirm: NEW }, { current, password: 'x'.repeat(1025), confirm: 'x'.repeat(1025) }]) {
    assertError(await change(here, body), 400, 'invalid_request');
  }
  assertError(await change(here, { current, password: NEW, confirm: NEW }).set('Sec-Fetch-Site', 'cross-site'), 403, 'cross_site_request');
  assertError(await change(here, { current, password: NEW, confirm: NEW }).set('X-CSRF-Token', 'forged'), 403, 'csrf_failed');
  const stranger = app.agent();
  await openPage(stranger, '/login');
  assertError(await change(stranger, { current, password: NEW, confirm: NEW }), 401, 'signed_out');
  assert.equal(await hashOf(app), before);
  await elsewhere.get('/').expect(200);
});

test('a wrong current password counts in the lockout: this form is no captcha-free oracle', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const here = await signedIn(app);
  await openPage(here, '/account/password');
  for (let i = 0; i < LOCKOUT_DEFAULTS.afterFailures; i += 1) {
    assertError(await change(here, { current: `wrong guess ${i}`, password: NEW, confirm: NEW }), 403, 'wrong_password');
  }
  const before = await hashOf(app);
  assertError(await change(here, { current: alice.password, password: NEW, confirm: NEW }), 403, 'wrong_password');
  assert.equal(await hashOf(app), before, 'locked: the right password is not even compared');
  // A refusal that is no verdict on the guess (a rule of the new password) counts nothing.
  app.clock.advance(LOCKOUT_DEFAULTS.baseMs);
  assertError(await change(here, { current: alice.password, password: 'password1', confirm: 'password1' }), 400, 'weak_password');
  await change(here, { current: alice.password, password: NEW, confirm: NEW }).expect(200);
});

test('a wrong current password with the real password as the new one is a wrong password: a stolen session learns nothing, changes nothing', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const stolen = await signedIn(app);
  const owner = await signedIn(app);
  app.clock.advance(RECENT_SIGN_IN_MS + 1);
  await openPage(stolen, '/account/password');
  const before = await hashOf(app);
  assertError(await change(stolen, { current: 'a wrong guess', password: alice.password, confirm: alice.password }), 403, 'wrong_password');
  await owner.get('/').expect(200);
  assert.equal(await hashOf(app), before);
  const user = await app.stores.users.findByUsername(alice.username);
  assert.ok(user);
  const kinds = (await app.stores.activity.latest(user.id, 10)).map((event) => event.kind);
  assert.equal(kinds[0], 'sign_in_failed', 'counted and recorded as a wrong password');
  assert.ok(!kinds.includes('password_changed'));
});

test('a change stored but answered 503 is completed by its retry only for a while: after 10 minutes its mark opens nothing', async (t) => {
  let failing = false;
  const app = await build(t, {
    activity: (real) =>
      withOverrides(real, {
        record: async (event) => {
          if (failing) throw new StoreUnavailableError(new Error('disk full'));
          return real.record(event);
        },
      }),
  });
  await app.createUser(alice.username, alice.password);
  const agent = await signedIn(app);
  await openPage(agent, '/account/password');
  failing = true;
  assertError(await change(agent, { current: alice.password, password: NEW, confirm: NEW }), 503, 'store_unavailable');
  failing = false;
  const stored = await hashOf(app);
  assert.ok(await verifyPassword(NEW, stored), 'the 503 came after the hash was stored');
  app.clock.advance(10 * 60_000 + 1);
  assertError(await change(agent, { current: alice.password, password: NEW, confirm: NEW }), 403, 'wrong_password');
});
