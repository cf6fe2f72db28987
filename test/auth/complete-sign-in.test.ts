/**
 * The last step of every sign-in (src/auth/complete-sign-in.ts) against what can happen
 * while a sign-in is under way: a password changed or an account locked between its
 * checks and its session's save ends that session too; a sign-in waiting for its code
 * after a password change is refused; and a sign-up form's key completes an earlier try
 * only as a sign-in would (not past a second factor, not past the operator's lock), with
 * its "Signed in" row.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword } from '../../src/auth/passwords.js';
import type { UserRepository } from '../../src/storage/ports.js';
import { build, TEST_SCRYPT } from '../helpers/build.js';
import { assertError, assertHomeGreets, assertSignedInResponse, assertSignedOut, loadCaptcha, openPage, postForm, signIn } from '../helpers/flows.js';
import { withOverrides } from '../helpers/overrides.js';
import { codeAt, enrol, postJson } from '../helpers/two-factor.js';

const alice = { username: 'alice', password: 'correct horse battery staple' };

/** A user repository whose first findById (the sign-in's check of the lock) runs `meanwhile` after reading: a change landing between the check and the save. */
function changingAfterFirstCheck(meanwhile: (real: UserRepository, id: number) => Promise<void>) {
  let first = true;
  return (real: UserRepository) =>
    withOverrides(real, {
      findById: async (id: number) => {
        const user = await real.findById(id);
        if (first) {
          first = false;
          await meanwhile(real, id);
        }
        return user;
      },
    });
}

test('a password changed while a sign-in with the old one was under way: that sign-in ends signed out, 401', async (t) => {
  const app = await build(t, { users: changingAfterFirstCheck(async (real, id) => void (await real.setPasswordHash(id, await hashPassword('a new one entirely, thanks', TEST_SCRYPT)))) });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  assertError(await signIn(app, agent, alice), 401, 'bad_credentials');
  await assertSignedOut(agent);
});

test('an account locked while its sign-in was under way: that sign-in ends signed out, 403', async (t) => {
  const app = await build(t, { users: changingAfterFirstCheck(async (real, id) => void (await real.setDisabled(id, Date.now()))) });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  assertError(await signIn(app, agent, alice), 403, 'account_disabled');
  await assertSignedOut(agent);
});

test('a sign-in waiting for its code when the password changes is refused at the code; sign-out drops a waiting sign-in', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const owner = app.agent();
  assertSignedInResponse(await signIn(app, owner, alice));
  const { secret } = await enrol(app, owner);
  app.clock.advance(30_000);

  const thief = app.agent();
  assert.deepEqual((await signIn(app, thief, alice)).body, { ok: true, step: 'code' });
  const user = await app.stores.users.findByUsername(alice.username);
  assert.ok(user);
  await app.stores.users.setPasswordHash(user.id, await hashPassword('a new one entirely, thanks', TEST_SCRYPT));
  assertError(await postJson(thief, '/login/code', { code: codeAt(secret, app.clock.now()) }), 401, 'bad_credentials');
  await assertSignedOut(thief);

  // Signing out at the code step (the page's "use another account") leaves nothing to complete.
  app.clock.advance(30_000);
  await app.stores.users.setPasswordHash(user.id, await hashPassword(alice.password, TEST_SCRYPT));
  const other = app.agent();
  assert.deepEqual((await signIn(app, other, alice)).body, { ok: true, step: 'code' });
  await other.post('/logout').set('Accept', 'application/json').expect(200);
  assertError(await postJson(other, '/login/code', { code: codeAt(secret, app.clock.now()) }), 401, 'totp_step_expired');
});

test("a sign-up form's key completes its earlier try as a sign-in: with its row, not past two-step verification, not past the operator's lock", async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const page = await openPage(agent, '/register');
  const key = /data-signup-key="([^"]+)"/.exec(page.text)?.[1] as string;
  const captchaId = /data-captcha-id="([^"]+)"/.exec(page.text)?.[1] as string;
  const send = async (client: typeof agent) => postForm(client, '/register', { ...alice, signupKey: key, captcha: await loadCaptcha(app, client, captchaId), captchaId });
  assert.equal((await send(agent)).status, 201);
  const user = await app.stores.users.findByUsername(alice.username);
  assert.ok(user);
  assert.deepEqual((await app.stores.activity.latest(user.id, 10)).map((event) => event.kind), ['sign_in'], 'a sign-up signs in with its row');

  // The same form sent again from another browser completes it (the retry of a 503)...
  const retry = app.agent();
  await openPage(retry, '/register');
  assert.equal((await send(retry)).status, 201);
  await assertHomeGreets(retry, 'alice');

  // ...but not once the account has a second factor: that sign-in is /login's, with a code.
  await enrol(app, agent);
  const afterTotp = app.agent();
  await openPage(afterTotp, '/register');
  assertError(await send(afterTotp), 409, 'username_taken');
  await assertSignedOut(afterTotp);

  await app.stores.totp.disable(user.id);
  await app.stores.users.setDisabled(user.id, app.clock.now());
  const afterLock = app.agent();
  await openPage(afterLock, '/register');
  assertError(await send(afterLock), 403, 'account_disabled');
  await assertSignedOut(afterLock);
});
