/**
 * The two-step verification page and its posts over HTTP (src/account/two-factor-routes.ts):
 * the page in each state, enrolment with its QR code and secret (kept in the session, not
 * the store, until confirmed), refusals that leave nothing behind (a stale secret from a
 * page another tab replaced, concurrent enrolments, malformed and wrong codes), recovery
 * codes made anew, turning off, and the recent sign-in those need; and a change whose
 * activity row cannot be written leaving nothing half done.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { StoreUnavailableError } from '../../src/storage/ports.js';
import { build } from '../helpers/build.js';
import { assertError, assertSignedInResponse, openPage, signIn, type Agent } from '../helpers/flows.js';
import { withOverrides } from '../helpers/overrides.js';
import { codeAt, enrol, postJson, recoveryCodesOf, secretOf, signInWithCode, startEnrolment } from '../helpers/two-factor.js';
import { RECENT_SIGN_IN_MS } from '../../src/session/timeouts.js';

const alice = { username: 'alice', password: 'correct horse battery' };

async function signedIn(t: TestContext) {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  const userId = (await app.stores.users.findByUsername('alice'))!.id;
  return { app, agent, userId };
}

const page = async (agent: Agent) => (await openPage(agent, '/account/two-factor')).text;

test('the page: signed out it sends to sign-in; off, it offers the set-up; the account menu links it', async (t) => {
  const { app, agent } = await signedIn(t);
  const anonymous = app.agent();
  const away = await anonymous.get('/account/two-factor').expect(303);
  assert.equal(away.headers.location, '/login');
  const html = await page(agent);
  assert.match(html, /<h1[^>]*>Two-step verification<\/h1>/);
  assert.match(html, /id="two-factor-off"/);
  assert.match(html, /id="totp-start"/);
  assert.match(html, /<a class="nav-link active" href="\/account\/two-factor" aria-current="page">/);
  assert.match((await agent.get('/').expect(200)).text, /href="\/account\/two-factor"/, 'home links it');
  assert.match((await agent.get('/account/two-factor?lang=zh-CN').expect(200)).text, /<h1[^>]*>两步验证<\/h1>/);
});

test('enrolment shows a QR code, the secret and a one-time-code field; the secret stays in the session until a code confirms it', async (t) => {
  const { app, agent, userId } = await signedIn(t);
  await page(agent);
  const res = await postJson(agent, '/account/two-factor/enrol').expect(200);
  const html = String(res.body.html);
  const secret = secretOf(res);
  assert.match(html, /<img id="totp-qr"[^>]* src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+"[^>]* alt="[^"]+"/);
  assert.match(html, new RegExp(`>${secret.match(/.{4}/g)!.join(' ')}</code>`), 'the secret in groups of four');
  assert.match(html, /<input id="totp-code"[^>]* autocomplete="one-time-code" inputmode="numeric"/);
  assert.equal(await app.stores.totp.find(userId), undefined, 'nothing stored yet');

  const confirmed = await postJson(agent, '/account/two-factor/confirm', { secret, code: codeAt(secret, app.clock.now()) }).expect(200);
  assert.equal(confirmed.body.message, 'Two-step verification is on.');
  const codes = recoveryCodesOf(confirmed);
  assert.equal(new Set(codes).size, 10);
  assert.equal((await app.stores.totp.find(userId))?.secret, secret);
  assert.doesNotMatch(app.logs(), new RegExp(`${secret}|${codes[0]}`), 'neither the secret nor a code is logged');

  const on = await page(agent);
  assert.match(on, /Two-step verification is on, since/);
  assert.match(on, /Recovery codes left: 10 of 10\./);
  assert.ok(!codes.some((code) => on.includes(code)), 'the recovery codes are shown only once');
  assertError(await postJson(agent, '/account/two-factor/enrol'), 409, 'totp_already_enabled');
  assertError(await postJson(agent, '/account/two-factor/confirm', { secret, code: codeAt(secret, app.clock.now() + 30_000) }), 409, 'totp_enrolment_stale');
});

test('confirming the secret a page showed after another tab started a new enrolment is refused; nothing is enabled', async (t) => {
  const { app, agent, userId } = await signedIn(t);
  const shownInTabA = await startEnrolment(agent);
  const shownInTabB = await startEnrolment(agent);
  const now = app.clock.now();
  assertError(await postJson(agent, '/account/two-factor/confirm', { secret: shownInTabA, code: codeAt(shownInTabA, now) }), 409, 'totp_enrolment_stale');
  assert.equal(await app.stores.totp.find(userId), undefined);
  await postJson(agent, '/account/two-factor/confirm', { secret: shownInTabB, code: codeAt(shownInTabB, now) }).expect(200);
  assert.equal((await app.stores.totp.find(userId))?.secret, shownInTabB);
});

test('of two enrolments confirmed at once from two sessions, one ends enabled and the other is told so', async (t) => {
  const { app, agent, userId } = await signedIn(t);
  const other = app.agent();
  assertSignedInResponse(await signIn(app, other, alice));
  const [one, two] = [await startEnrolment(agent), await startEnrolment(other)];
  const now = app.clock.now();
  const answers = await Promise.all([
    postJson(agent, '/account/two-factor/confirm', { secret: one, code: codeAt(one, now) }),
    postJson(other, '/account/two-factor/confirm', { secret: two, code: codeAt(two, now) }),
  ]);
  assert.deepEqual(answers.map((res) => res.status).sort(), [200, 409]);
  const lost = answers.find((res) => res.status === 409)!;
  assertError(lost, 409, 'totp_already_enabled');
  const won = answers.findIndex((res) => res.status === 200);
  assert.equal((await app.stores.totp.find(userId))?.secret, [one, two][won]);
});

test('malformed, wrong and badly shaped confirmations are refused with nothing enabled; the enrolment can still be confirmed', async (t) => {
  const { app, agent, userId } = await signedIn(t);
  const secret = await startEnrolment(agent);
  const now = app.clock.now();
  const confirm = (body: Record<string, unknown>) => postJson(agent, '/account/two-factor/confirm', body);
  assertError(await confirm({ secret, code: '12 34' }), 400, 'totp_code_malformed');
  assertError(await confirm({ secret, code: 'abcd-efgh-jkmn' }), 400, 'totp_code_malformed');
  assertError(await confirm({ secret, code: codeAt(secret, now - 90_000) }), 400, 'totp_code_wrong');
  assertError(await confirm({ code: codeAt(secret, now) }), 400, 'invalid_request');
  assertError(await confirm({ secret: 'not base32!', code: codeAt(secret, now) }), 400, 'invalid_request');
  assert.equal(await app.stores.totp.find(userId), undefined);
  await confirm({ secret, code: codeAt(secret, now) }).expect(200);
});

test('new recovery codes and turning off need a sign-in within 10 minutes; then the old codes stop working, and off means the password alone signs in', async (t) => {
  const { app, agent } = await signedIn(t);
  const { secret, recoveryCodes } = await enrol(app, agent);
  app.clock.advance(RECENT_SIGN_IN_MS + 1);
  await page(agent);
  assertError(await postJson(agent, '/account/two-factor/recovery-codes'), 403, 'totp_reauth_required');
  assertError(await postJson(agent, '/account/two-factor/disable'), 403, 'totp_reauth_required');

  const fresh = app.agent();
  assertSignedInResponse(await signInWithCode(app, fresh, alice, codeAt(secret, app.clock.now())));
  await page(fresh);
  const renewed = recoveryCodesOf(await postJson(fresh, '/account/two-factor/recovery-codes').expect(200));
  assert.equal(renewed.length, 10);
  assert.ok(!renewed.some((code) => recoveryCodes.includes(code)));
  assertError(await signInWithCode(app, app.agent(), alice, recoveryCodes[0] ?? ''), 401, 'totp_sign_in_failed');
  assertSignedInResponse(await signInWithCode(app, app.agent(), alice, renewed[0] ?? ''));

  const off = await postJson(fresh, '/account/two-factor/disable').expect(200);
  assert.match(String(off.body.html), /id="totp-start"/);
  assertError(await postJson(fresh, '/account/two-factor/disable'), 409, 'totp_not_enabled');
  assertSignedInResponse(await signIn(app, app.agent(), alice));
});

test('a signed-out page cannot post: 401 signed_out', async (t) => {
  const { app } = await signedIn(t);
  const anonymous = app.agent();
  await openPage(anonymous, '/login');
  for (const path of ['enrol', 'confirm', 'recovery-codes', 'disable']) {
    assertError(await postJson(anonymous, `/account/two-factor/${path}`, { secret: 'AAAAAAAAAAAAAAAA', code: '123456' }), 401, 'signed_out');
  }
});

/** Signed in on an app whose activity rows fail while `failing()` says so, after `before()` ran (say, the clock moved). */
async function withFailingActivity(t: TestContext, before: () => void = () => {}) {
  let failing = false;
  const app = await build(t, {
    activity: (real) =>
      withOverrides(real, {
        record: async (event) => {
          if (!failing) return real.record(event);
          before();
          throw new StoreUnavailableError(new Error('disk full'));
        },
      }),
  });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  const userId = (await app.stores.users.findByUsername('alice'))!.id;
  return { app, agent, userId, fail: (on: boolean) => (failing = on) };
}

test('turning on whose row cannot be written is taken back, even when that ran past the 10 minutes of the sign-in', async (t) => {
  let late = () => {};
  const { app, agent, userId, fail } = await withFailingActivity(t, () => late());
  const secret = await startEnrolment(agent);
  // Confirmed at 9:59 of the sign-in; the row fails at 10:00 and a bit.
  app.clock.advance(RECENT_SIGN_IN_MS - 1_000);
  late = () => app.clock.advance(2_000);
  fail(true);
  const res = await postJson(agent, '/account/two-factor/confirm', { secret, code: codeAt(secret, app.clock.now()) });
  assertError(res, 503, 'store_unavailable');
  assert.deepEqual(recoveryCodesOf(res), []);
  assert.equal(await app.stores.totp.find(userId), undefined, 'off again: no factor whose codes nobody saw');
  fail(false);
  assert.ok(!(await app.stores.activity.latest(userId, 10)).some((event) => event.kind === 'totp_enabled'));
  assertSignedInResponse(await signIn(app, app.agent(), alice));
});

test('new recovery codes whose row cannot be written replace nothing: the old codes still work', async (t) => {
  const { app, agent, userId, fail } = await withFailingActivity(t);
  const { recoveryCodes } = await enrol(app, agent);
  fail(true);
  const res = await postJson(agent, '/account/two-factor/recovery-codes');
  assertError(res, 503, 'store_unavailable');
  assert.deepEqual(recoveryCodesOf(res), [], 'never shown');
  fail(false);
  assert.equal((await app.stores.totp.find(userId))?.recoveryCodesLeft, 10);
  assertSignedInResponse(await signInWithCode(app, app.agent(), alice, recoveryCodes[0] ?? ''));
});
