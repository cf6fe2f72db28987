/**
 * Recent activity over HTTP: what a sign-in, a failed one, the lockout it began, an
 * operator's lock and passkey changes record, what the home page shows of it (in both
 * languages), and what happens when an event cannot be recorded.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { handleOf } from '../../src/account/sessions.js';
import { StoreUnavailableError, type SecurityEventKind } from '../../src/storage/ports.js';
import { SoftwareAuthenticator } from '../helpers/authenticator.js';
import { build, type BuildOptions, type TestApp } from '../helpers/build.js';
import { assertError, assertSignedInResponse, assertSignedOut, csrfTokenOf, openPage, signIn, type Agent } from '../helpers/flows.js';
import { withOverrides } from '../helpers/overrides.js';
import { codeAt, enrol, postJson, recoveryCodesOf, signInWithCode, startEnrolment } from '../helpers/two-factor.js';

const alice = { username: 'alice', password: 'correct horse battery' };
const wrong = { ...alice, password: 'not the password' };
const NETWORK = '127.0.0.0/24';
const ORIGIN = 'http://localhost:3000';

async function setup(t: TestContext, options: BuildOptions = {}) {
  const app = await build(t, { lockout: { afterFailures: 2 }, publicOrigin: ORIGIN, ...options });
  await app.createUser(alice.username, alice.password);
  const user = await app.stores.users.findByUsername(alice.username);
  assert.ok(user);
  return { app, user };
}

/** The account's events as (kind, detail, network), newest first. */
async function eventsOf(app: TestApp, userId: number) {
  return (await app.stores.activity.latest(userId, 100)).map(({ kind, detail, network }) => [kind, detail, network]);
}

/** The home page's activity list: each event's time, what happened and its network, as text. */
function activityRows(html: string): string[][] {
  return [...html.matchAll(/<li class="list-group-item activity-event">([\s\S]*?)<\/li>/g)].map((item) => {
    const text = item[1] ?? '';
    const cell = (pattern: RegExp) => (pattern.exec(text)?.[1] ?? '').trim();
    return [cell(/<time[^>]*>([^<]*)<\/time>/), cell(/<div class="activity-text">([^<]*)<\/div>/), cell(/<span class="activity-network">([^<]*)<\/span>/)];
  });
}

const post = (agent: Agent, path: string, body: unknown = {}) =>
  agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', csrfTokenOf(agent)).send(body as object);

async function addPasskey(agent: Agent, name: string): Promise<{ authenticator: SoftwareAuthenticator; res: Awaited<ReturnType<typeof post>> }> {
  const authenticator = new SoftwareAuthenticator(ORIGIN);
  const options = (await post(agent, '/passkeys/options').expect(200)).body.options as PublicKeyCredentialCreationOptionsJSON;
  return { authenticator, res: await post(agent, '/passkeys', { name, response: authenticator.register(options) }) };
}

async function passkeySignIn(app: TestApp, authenticator: SoftwareAuthenticator) {
  const agent = app.agent();
  await openPage(agent, '/login');
  const options = (await post(agent, '/passkeys/sign-in/options').expect(200)).body.options as PublicKeyCredentialRequestOptionsJSON;
  return { agent, res: await post(agent, '/passkeys/sign-in', { response: authenticator.assert(options, 'localhost') }) };
}

test('a counted failure, the lock it began and a sign-in are recorded with their network; a refused guess and an unknown name are not', async (t) => {
  const { app, user } = await setup(t);
  assertError(await signIn(app, app.agent(), wrong), 401, 'bad_credentials');
  assertError(await signIn(app, app.agent(), wrong), 401, 'bad_credentials');
  assertError(await signIn(app, app.agent(), wrong), 401, 'bad_credentials');
  assertError(await signIn(app, app.agent(), { username: 'nobody', password: 'whatever it is' }), 401, 'bad_credentials');
  assert.deepEqual(await eventsOf(app, user.id), [
    ['lockout', 'network', NETWORK],
    ['sign_in_failed', 'password', NETWORK],
    ['sign_in_failed', 'password', NETWORK],
  ], 'the second failure began the network lock; the third was refused by it, uncounted and unrecorded');
  assert.equal((app.db.prepare('SELECT count(*) AS n FROM security_events').get() as { n: number }).n, 3, 'nothing for a name no account has');

  app.clock.advance(60_000);
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  assert.deepEqual((await eventsOf(app, user.id))[0], ['sign_in', 'password', NETWORK]);
  const lines = app.logs().split('\n').filter((line) => line.includes('"securityEvent"'));
  assert.equal(lines.length, 4, 'each event is a log line too');
  assert.match(lines.at(-1) ?? '', /"kind":"sign_in","userId":\d+,"network":"127\.0\.0\.0\/24","detail":"password"/);
  assert.doesNotMatch(app.logs(), /correct horse|not the password/, 'never a password');
});

test('home shows the newest 20 events of the account, with their time in UTC for a page without scripts, in English and Chinese', async (t) => {
  const { app, user } = await setup(t);
  const other = await app.stores.users.create('bob', 'hash');
  await app.stores.activity.record({ userId: other.id, kind: 'account_locked', at: app.clock.now(), network: undefined, detail: undefined });
  const start = Date.UTC(2026, 0, 15, 8, 30);
  const kinds: SecurityEventKind[] = ['password_changed', 'totp_enabled', 'sessions_revoked'];
  for (let i = 0; i < 24; i += 1) {
    await app.stores.activity.record({ userId: user.id, kind: kinds[i % 3] as SecurityEventKind, at: start + i * 60_000, network: '192.0.2.0/24', detail: '3' });
  }
  await app.stores.activity.record({ userId: user.id, kind: 'passkey_added', at: start + 30 * 60_000, network: '192.0.2.0/24', detail: 'Laptop <b>' });
  await app.stores.activity.record({ userId: user.id, kind: 'account_unlocked', at: start + 31 * 60_000, network: undefined, detail: undefined });
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));

  const home = await openPage(agent, '/');
  const rows = activityRows(home.text);
  assert.equal(rows.length, 20, 'the newest 20');
  assert.deepEqual(rows[0]?.slice(1), ['Signed in with your password', NETWORK]);
  assert.deepEqual(rows[1], ['Jan 15, 2026, 9:01 AM UTC', 'Account unlocked by an administrator', 'none (done by an administrator)']);
  assert.deepEqual(rows[2]?.slice(1), ['Passkey &#34;Laptop &lt;b&gt;&#34; added', '192.0.2.0/24'], 'a passkey name is text, escaped');
  assert.deepEqual(rows[3]?.slice(1), ['Sessions signed out: 3', '192.0.2.0/24']);
  assert.match(home.text, /<time class="activity-time" datetime="2026-01-15T09:01:00.000Z">Jan 15, 2026, 9:01 AM UTC<\/time>/);
  assert.doesNotMatch(home.text, /Account locked by an administrator/, "another account's events are not shown");
  assert.match(home.text, /href="\/account\/sessions">Sign out everywhere</);
  assert.match(home.text, /href="\/account\/password">Change your password</);
  assert.match(home.text, /src="\/static\/js\/activity.js"/);

  const zh = await agent.get('/?lang=zh-CN').expect(200);
  const zhRows = activityRows(zh.text);
  assert.deepEqual(zhRows[0]?.slice(1), ['使用密码登录', NETWORK]);
  assert.equal(zhRows[1]?.[1], '账号已被管理员解锁');
  assert.match(zhRows[1]?.[0] ?? '', /^2026年1月15日 09:01 UTC$/);
  assert.match(zh.text, /最近活动/);
});

test('with no events (all pruned), home says so instead of an empty list', async (t) => {
  const { app, user } = await setup(t);
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  app.db.prepare('DELETE FROM security_events WHERE user_id = ?').run(user.id);
  const home = await openPage(agent, '/');
  assert.match(home.text, /<p id="activity-none">Nothing yet.<\/p>/);
  assert.doesNotMatch(home.text, /id="activity-list"/, 'and no empty list');
});

test('when the sign-in cannot be recorded, nobody is signed in (503) and nothing is counted; a wrong password is answered the same', async (t) => {
  let failing = false;
  const { app, user } = await setup(t, {
    activity: (real) =>
      withOverrides(real, {
        record: async (event) => {
          if (failing) throw new StoreUnavailableError(new Error('disk full'));
          return real.record(event);
        },
      }),
  });
  failing = true;
  const agent = app.agent();
  assertError(await signIn(app, agent, alice), 503, 'store_unavailable');
  await assertSignedOut(agent);
  for (let i = 0; i < 3; i += 1) assertError(await signIn(app, app.agent(), wrong), 503, 'store_unavailable');
  assert.match(app.logs(), /"msg":"security event not recorded"/);

  failing = false;
  assert.deepEqual(await eventsOf(app, user.id), []);
  // Two counted failures would have locked the network (afterFailures 2): none was counted.
  assertSignedInResponse(await signIn(app, agent, alice));
  assert.deepEqual(await eventsOf(app, user.id), [['sign_in', 'password', NETWORK]]);
});

test('a locked account: a wrong password is a wrong password; a right password or a passkey is told it is locked, recorded, and signs nobody in', async (t) => {
  const { app, user } = await setup(t);
  const owner = app.agent();
  assertSignedInResponse(await signIn(app, owner, alice));
  await openPage(owner, '/');
  const { authenticator, res } = await addPasskey(owner, 'Phone');
  assert.equal(res.status, 201, res.text);
  await app.stores.users.setDisabled(user.id, app.clock.now());

  assertError(await signIn(app, app.agent(), wrong), 401, 'bad_credentials');
  const agent = app.agent();
  const refused = await signIn(app, agent, alice);
  assertError(refused, 403, 'account_disabled');
  assert.equal(refused.body.error.message, 'This account is locked. Ask the administrator of this site to unlock it.');
  await assertSignedOut(agent);
  const byPasskey = await passkeySignIn(app, authenticator);
  assertError(byPasskey.res, 403, 'account_disabled');
  await assertSignedOut(byPasskey.agent);
  assert.deepEqual((await eventsOf(app, user.id)).slice(0, 3), [
    ['sign_in_refused_locked', 'passkey', NETWORK],
    ['sign_in_refused_locked', 'password', NETWORK],
    ['sign_in_failed', 'password', NETWORK],
  ]);
  await app.stores.users.setDisabled(user.id, undefined);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
  assertSignedInResponse((await passkeySignIn(app, authenticator)).res);
});

test('adding and removing a passkey are recorded; a passkey whose event cannot be recorded is not kept', async (t) => {
  let failing = false;
  const { app, user } = await setup(t, {
    activity: (real) =>
      withOverrides(real, {
        record: async (event) => {
          if (failing) throw new StoreUnavailableError(new Error('disk full'));
          return real.record(event);
        },
      }),
  });
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  await openPage(agent, '/');
  const added = await addPasskey(agent, 'Laptop');
  assert.equal(added.res.status, 201, added.res.text);
  const [laptop] = await app.stores.passkeys.listFor(user.id);
  assert.ok(laptop);
  assert.equal((await post(agent, '/passkeys/remove', { id: laptop.id })).status, 200);
  assert.deepEqual((await eventsOf(app, user.id)).slice(0, 2), [
    ['passkey_removed', 'Laptop', NETWORK],
    ['passkey_added', 'Laptop', NETWORK],
  ]);

  failing = true;
  const unrecorded = await addPasskey(agent, 'Tablet');
  assertError(unrecorded.res, 503, 'store_unavailable');
  assert.deepEqual(await app.stores.passkeys.listFor(user.id), [], 'taken away again');
  failing = false;
  const again = await addPasskey(agent, 'Tablet');
  assert.equal(again.res.status, 201, again.res.text);
  const [tablet] = await app.stores.passkeys.listFor(user.id);
  failing = true;
  const removed = await post(agent, '/passkeys/remove', { id: tablet?.id });
  assert.equal(removed.status, 200, 'a removal stands, and is answered as done');
  assert.deepEqual(await app.stores.passkeys.listFor(user.id), []);
});

test('two-step verification: turning it on, new recovery codes and turning it off are recorded, and so is each way through the code step', async (t) => {
  let failing = false;
  const { app, user } = await setup(t, {
    lockout: { afterFailures: 5 },
    activity: (real) =>
      withOverrides(real, {
        record: async (event) => {
          if (failing) throw new StoreUnavailableError(new Error('disk full'));
          return real.record(event);
        },
      }),
  });
  const owner = app.agent();
  assertSignedInResponse(await signIn(app, owner, alice));
  // Turning it on is taken back when it cannot be recorded: nothing is on, no code was shown.
  failing = true;
  const secret = await startEnrolment(owner);
  assertError(await postJson(owner, '/account/two-factor/confirm', { secret, code: codeAt(secret, app.clock.now()) }), 503, 'store_unavailable');
  assert.equal(await app.stores.totp.find(user.id), undefined, 'taken back');
  failing = false;
  app.clock.advance(30_000);
  const { secret: enrolled } = await enrol(app, owner);
  failing = true;
  const unrecorded = await postJson(owner, '/account/two-factor/recovery-codes');
  assertError(unrecorded, 503, 'store_unavailable');
  assert.deepEqual(recoveryCodesOf(unrecorded), [], 'codes whose making is not recorded are never shown');
  failing = false;
  const regenerated = await postJson(owner, '/account/two-factor/recovery-codes');
  assert.equal(regenerated.status, 200);
  const recoveryCodes = recoveryCodesOf(regenerated);
  assert.deepEqual((await eventsOf(app, user.id)).slice(0, 3), [
    ['recovery_codes_regenerated', undefined, NETWORK],
    ['totp_enabled', undefined, NETWORK],
    ['sign_in', 'password', NETWORK],
  ], 'one row for the codes shown, none for those never shown');

  app.clock.advance(30_000);
  const agent = app.agent();
  assertError(await signInWithCode(app, agent, alice, '000000'.replace(/^0/, codeAt(enrolled, app.clock.now())[0] === '0' ? '1' : '0')), 401, 'totp_sign_in_failed');
  assertSignedInResponse(await postJson(agent, '/login/code', { code: codeAt(enrolled, app.clock.now()) }));
  const byRecovery = app.agent();
  assertSignedInResponse(await signInWithCode(app, byRecovery, alice, recoveryCodes[0] ?? ''));
  assert.deepEqual((await eventsOf(app, user.id)).slice(0, 3), [
    ['sign_in', 'password+recovery_code', NETWORK],
    ['sign_in', 'password+totp', NETWORK],
    ['sign_in_failed', 'code', NETWORK],
  ], 'the password alone is no sign-in: only the code step records one');

  // Locked between the password and the code: the owner is told at the password, before any code.
  await app.stores.users.setDisabled(user.id, app.clock.now());
  assertError(await signIn(app, app.agent(), alice), 403, 'account_disabled');
  await app.stores.users.setDisabled(user.id, undefined);
  const pending = app.agent();
  app.clock.advance(30_000);
  assert.deepEqual((await signIn(app, pending, alice)).body, { ok: true, step: 'code' });
  await app.stores.users.setDisabled(user.id, app.clock.now());
  assertError(await postJson(pending, '/login/code', { code: codeAt(enrolled, app.clock.now()) }), 403, 'account_disabled');
  await assertSignedOut(pending);
  await app.stores.users.setDisabled(user.id, undefined);

  await openPage(owner, '/');
  assert.equal((await postJson(owner, '/account/two-factor/disable')).status, 200);
  const home = await openPage(owner, '/');
  assert.deepEqual(activityRows(home.text).slice(0, 6).map((row) => row[1]), [
    'Two-step verification turned off',
    'Sign-in refused: the account is locked',
    'Sign-in refused: the account is locked',
    'Signed in with your password and a recovery code',
    'Signed in with your password and an authenticator code',
    'Failed sign-in: wrong or already used code',
  ]);
});

/** The agent's session id, from its cookie (s:<sid>.<signature>). */
function sidOf(agent: Agent): string {
  const cookie = agent.jar.getCookie('captcha_login.sid', { domain: '127.0.0.1', path: '/', secure: false, script: false });
  const sid = /^s%3A([^.]+)\./.exec(cookie?.value ?? '')?.[1];
  assert.ok(sid, 'the agent holds a session cookie');
  return decodeURIComponent(sid);
}

test('signing sessions out and changing the password are recorded; a wrong current password is a failed sign-in; unrecorded, a sign-out stands and a change is completed by its retry', async (t) => {
  let failing = false;
  const { app, user } = await setup(t, {
    activity: (real) =>
      withOverrides(real, {
        record: async (event) => {
          if (failing) throw new StoreUnavailableError(new Error('disk full'));
          return real.record(event);
        },
      }),
  });
  const signedInAgent = async () => {
    const agent = app.agent();
    assertSignedInResponse(await signIn(app, agent, alice));
    return agent;
  };
  const here = await signedInAgent();
  const [phone, tablet, laptop] = [await signedInAgent(), await signedInAgent(), await signedInAgent()];
  await openPage(here, '/account/sessions');
  assert.equal((await post(here, '/account/sessions/revoke', { id: handleOf(sidOf(phone)) })).status, 200);
  failing = true;
  assert.equal((await post(here, '/account/sessions/revoke', { id: handleOf(sidOf(tablet)) })).status, 200, 'a sign-out stands, answered as done');
  await assertSignedOut(tablet);
  failing = false;
  assert.equal((await post(here, '/account/sessions/revoke-others', {})).body.count, 1);
  await assertSignedOut(laptop);

  await openPage(here, '/account/password');
  const change = (current: string, password: string) => post(here, '/account/password', { current, password, confirm: password });
  assertError(await change('not the password', 'violet kettle drums at midnight'), 403, 'wrong_password');
  failing = true;
  assertError(await change(alice.password, 'violet kettle drums at midnight'), 503, 'store_unavailable');
  failing = false;
  // The retry of the page: its "current" password is now the old one, its new one the stored one.
  assert.equal((await change(alice.password, 'violet kettle drums at midnight')).status, 200);
  assert.deepEqual((await eventsOf(app, user.id)).slice(0, 4), [
    ['password_changed', undefined, NETWORK],
    ['sign_in_failed', 'current_password', NETWORK],
    ['sessions_revoked', '1', NETWORK],
    ['sessions_revoked', '1', NETWORK],
  ], 'one row for the change and its retry; none for the sign-out whose row failed');
  const home = await openPage(here, '/');
  assert.deepEqual(activityRows(home.text).slice(0, 3).map((row) => row[1]), [
    'Password changed',
    'Wrong current password given to change the password',
    'Sessions signed out: 1',
  ]);
});
