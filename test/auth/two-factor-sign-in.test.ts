/**
 * Signing in with two-step verification over HTTP (src/auth/routes.ts): a right password
 * leaves a pending sign-in, never a signed-in session, until a TOTP or recovery code
 * completes it; wrong codes count in the lockout like wrong passwords (a right password
 * does not reset them); the pending state ends after MAX_CODE_TRIES wrong codes or
 * PENDING_SIGN_IN_MS; replayed and malformed codes; a known device is still asked for
 * the code; a passkey needs none; a store failing on the way counts nothing.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { MAX_CODE_TRIES, PENDING_SIGN_IN_MS } from '../../src/auth/code-step.js';
import { SoftwareAuthenticator } from '../helpers/authenticator.js';
import { build, type BuildOptions, type TestApp } from '../helpers/build.js';
import { assertError, assertHomeGreets, assertSignedInResponse, assertSignedOut, csrfTokenOf, openPage, sessionCookie, signIn, type Agent } from '../helpers/flows.js';
import { postgresDatabase } from '../helpers/services.js';
import { codeAt, enrol, postJson, signInWithCode } from '../helpers/two-factor.js';

const alice = { username: 'alice', password: 'correct horse battery' };

/** An app where alice has enrolled; returns the app, her secret and recovery codes, and a fresh (signed-out) agent. */
async function enrolled(t: TestContext, options: BuildOptions = {}) {
  const app = await build(t, options);
  await app.createUser(alice.username, alice.password);
  const owner = app.agent();
  assertSignedInResponse(await signIn(app, owner, alice));
  const { secret, recoveryCodes } = await enrol(app, owner);
  // The confirming code is spent: later sign-ins use the codes of later steps.
  app.clock.advance(30_000);
  return { app, secret, recoveryCodes, agent: app.agent() };
}

const code = (app: TestApp, secret: string) => codeAt(secret, app.clock.now());
const sendCode = (agent: Agent, value: string) => postJson(agent, '/login/code', { code: value });
const cookieNames = (res: { headers: Record<string, unknown> }) => ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []).map((c) => c.split('=')[0]);

test('with TOTP on, a right password only asks for a code; the code signs in, trusts the device and renews the session', async (t) => {
  const { app, secret, agent } = await enrolled(t);
  const password = await signIn(app, agent, alice);
  assert.deepEqual(password.body, { ok: true, step: 'code' });
  assert.ok(!cookieNames(password).includes('captcha_login.device'), 'no device trust for a password alone');
  const pending = sessionCookie(password);
  assert.ok(pending, 'the session was renewed at the password');

  await assertSignedOut(agent);
  await openPage(agent, '/login');
  assertError(await postJson(agent, '/account/two-factor/enrol'), 401, 'signed_out');
  assertError(await postJson(agent, '/passkeys/options'), 401, 'signed_out');

  const done = await sendCode(agent, code(app, secret));
  assertSignedInResponse(done);
  assert.ok(cookieNames(done).includes('captcha_login.device'), 'the device is trusted once the code is right');
  const signedIn = sessionCookie(done);
  assert.ok(signedIn && signedIn !== pending, 'a new session id at sign-in');
  await assertHomeGreets(agent, 'alice');
  assertError(await sendCode(agent, code(app, secret)), 401, 'totp_step_expired');
});

test('wrong codes count in the lockout like wrong passwords, and a right password does not reset them', async (t) => {
  const { app, secret, agent } = await enrolled(t);
  assert.deepEqual((await signIn(app, agent, alice)).body, { ok: true, step: 'code' });
  for (let i = 1; i < MAX_CODE_TRIES; i += 1) assertError(await sendCode(agent, '000000'), 401, 'totp_sign_in_failed');
  assertError(await sendCode(agent, '000000'), 401, 'totp_step_expired');
  // The pending sign-in is gone: a right code no longer helps.
  assertError(await sendCode(agent, code(app, secret)), 401, 'totp_step_expired');

  // Three failures counted; the right password takes its own count back but clears nothing.
  assert.deepEqual((await signIn(app, agent, alice)).body, { ok: true, step: 'code' });
  assertError(await sendCode(agent, '111111'), 401, 'totp_sign_in_failed');
  assertError(await sendCode(agent, '222222'), 401, 'totp_sign_in_failed');
  // Five failures from this network: locked. A right code is refused unchecked (and unspent), and so is the password.
  const right = code(app, secret);
  assertError(await sendCode(agent, right), 401, 'totp_step_expired');
  assertError(await signIn(app, agent, alice), 401, 'bad_credentials');

  app.clock.advance(60_000);
  assertSignedInResponse(await signInWithCode(app, agent, alice, code(app, secret)));
  await assertHomeGreets(agent, 'alice');
});

test('the pending sign-in lasts PENDING_SIGN_IN_MS', async (t) => {
  const { app, secret, agent } = await enrolled(t);
  assert.deepEqual((await signIn(app, agent, alice)).body, { ok: true, step: 'code' });
  app.clock.advance(PENDING_SIGN_IN_MS + 1);
  assertError(await sendCode(agent, code(app, secret)), 401, 'totp_step_expired');
  await assertSignedOut(agent);
});

test('a code is accepted once: used by one sign-in, it is refused to the next', async (t) => {
  const { app, secret, agent } = await enrolled(t);
  const once = code(app, secret);
  assertSignedInResponse(await signInWithCode(app, agent, alice, once));
  const thief = app.agent();
  assertError(await signInWithCode(app, thief, alice, once), 401, 'totp_code_used');
  await assertSignedOut(thief);
});

test('a recovery code signs in once; the second use is refused', async (t) => {
  const { app, recoveryCodes, agent } = await enrolled(t);
  const [first = ''] = recoveryCodes;
  assertSignedInResponse(await signInWithCode(app, agent, alice, first.toUpperCase()));
  await assertHomeGreets(agent, 'alice');
  const again = app.agent();
  assertError(await signInWithCode(app, again, alice, first), 401, 'totp_sign_in_failed');
  await assertSignedOut(again);
});

test('a malformed code is refused as such, counted nowhere, and the pending sign-in stays', async (t) => {
  const { app, secret, agent } = await enrolled(t);
  assert.deepEqual((await signIn(app, agent, alice)).body, { ok: true, step: 'code' });
  for (const bad of ['', '12345', '1234567', 'abc', 'abcd-efgh-jkmu', '１２３４５６']) assertError(await sendCode(agent, bad), 400, 'totp_code_malformed');
  assertError(await postJson(agent, '/login/code', { code: 123456 }), 400, 'invalid_request');
  assertError(await postJson(agent, '/login/code', { code: 'x'.repeat(33) }), 400, 'invalid_request');
  assertSignedInResponse(await sendCode(agent, code(app, secret)));
});

test('a code post without a pending sign-in (none started, or signed in already) is refused', async (t) => {
  const { app, secret, agent } = await enrolled(t);
  await openPage(agent, '/login');
  assertError(await sendCode(agent, code(app, secret)), 401, 'totp_step_expired');
});

test('a known device of the account is still asked for the code', async (t) => {
  const { app, secret, agent } = await enrolled(t);
  assertSignedInResponse(await signInWithCode(app, agent, alice, code(app, secret)));
  await agent.post('/logout').type('form').send({ _csrf: csrfTokenOf(agent) }).expect(303);
  app.clock.advance(30_000);
  const again = await signIn(app, agent, alice);
  assert.deepEqual(again.body, { ok: true, step: 'code' }, 'the device cookie is no second factor');
  assertSignedInResponse(await sendCode(agent, code(app, secret)));
});

test('a passkey signs in without a code', async (t) => {
  const origin = 'http://localhost:3000';
  const { app, recoveryCodes, agent } = await enrolled(t, { publicOrigin: origin });
  const owner = app.agent();
  // Signed in just now (with a recovery code), as adding a passkey needs.
  assertSignedInResponse(await signInWithCode(app, owner, alice, recoveryCodes[0] ?? ''));
  await openPage(owner, '/');
  const authenticator = new SoftwareAuthenticator(origin);
  const options = (await postJson(owner, '/passkeys/options').expect(200)).body.options as PublicKeyCredentialCreationOptionsJSON;
  assert.equal((await postJson(owner, '/passkeys', { name: 'Laptop', response: authenticator.register(options) })).status, 201);

  await openPage(agent, '/login');
  const request = (await postJson(agent, '/passkeys/sign-in/options').expect(200)).body.options as PublicKeyCredentialRequestOptionsJSON;
  assertSignedInResponse(await postJson(agent, '/passkeys/sign-in', { response: authenticator.assert(request, 'localhost') }));
  await assertHomeGreets(agent, 'alice');
});

test('the TOTP store failing (PostgreSQL) at either step is a 503 that counts nothing, and the pending sign-in stays', async (t) => {
  const databaseUrl = await postgresDatabase(t);
  const { app, secret, agent } = await enrolled(t, { storage: { databaseUrl } });
  const admin = new pg.Client({ connectionString: databaseUrl });
  admin.on('error', () => {}); // the test's database is dropped under it at the end
  await admin.connect();
  t.after(() => admin.end());
  // A real failure of the back-end: every query of the TOTP factors errors while the table is away.
  const away = (gone: boolean) => admin.query(gone ? 'ALTER TABLE totp_factors RENAME TO totp_away' : 'ALTER TABLE totp_away RENAME TO totp_factors');

  await away(true);
  for (let i = 0; i < 6; i += 1) assertError(await signIn(app, agent, alice), 503, 'store_unavailable');
  await away(false);
  assert.deepEqual((await signIn(app, agent, alice)).body, { ok: true, step: 'code' }, 'six 503s did not lock the password');

  await away(true);
  for (let i = 0; i < 6; i += 1) assertError(await sendCode(agent, code(app, secret)), 503, 'store_unavailable');
  await away(false);
  assertSignedInResponse(await sendCode(agent, code(app, secret)));
  await assertHomeGreets(agent, 'alice');
});
