/**
 * Passkeys over HTTP, with a software authenticator making real WebAuthn responses (the
 * browser path is test/browser/passkeys.test.ts): what is accepted, and every way a
 * response is refused: another credential's signature, tampered client data, a valid
 * signature made for another origin or RP ID (sign-in and adding), a replay,
 * an expired or never-issued challenge, a counter that went back, a challenge issued for
 * another account; and the per-IP limits and the lockout on passkey attempts.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { LOCKOUT_DEFAULTS } from '../../src/auth/lockout.js';
import { PASSKEY_CHALLENGE_TTL_MS } from '../../src/auth/passkeys.js';
import { SoftwareAuthenticator, type AssertOptions } from '../helpers/authenticator.js';
import { build, type BuildOptions, type TestApp } from '../helpers/build.js';
import { ATTACK_OFF, ATTACK_ON, fixedAttackMode } from '../helpers/pow.js';
import {
  assertError,
  assertHomeGreets,
  assertSignedInResponse,
  assertSignedOut,
  csrfTokenOf,
  loadCaptcha,
  openForm,
  openPage,
  postForm,
  sessionCookie,
  signIn,
  type Agent,
} from '../helpers/flows.js';
import { RECENT_SIGN_IN_MS } from '../../src/session/timeouts.js';

const ORIGIN = 'http://localhost:3000';
const RP_ID = 'localhost';
const PASSWORD = 'correct horse battery';

const post = (agent: Agent, path: string, body: unknown = {}) =>
  agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', csrfTokenOf(agent)).send(body as object);

async function signedIn(app: TestApp, username: string): Promise<Agent> {
  await app.createUser(username, PASSWORD);
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, { username, password: PASSWORD }));
  await openPage(agent, '/');
  return agent;
}

/** Adds a passkey to the signed-in agent's account through the endpoints; returns its authenticator. */
async function addPasskey(agent: Agent, name = 'Laptop', authenticator = new SoftwareAuthenticator(ORIGIN)): Promise<SoftwareAuthenticator> {
  const options = (await post(agent, '/passkeys/options').expect(200)).body.options as PublicKeyCredentialCreationOptionsJSON;
  const res = await post(agent, '/passkeys', { name, response: authenticator.register(options) });
  assert.equal(res.status, 201, res.text);
  return authenticator;
}

async function signInOptions(agent: Agent): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return (await post(agent, '/passkeys/sign-in/options').expect(200)).body.options as PublicKeyCredentialRequestOptionsJSON;
}

/** A fresh visitor on the sign-in page, answering a fresh challenge with the authenticator. */
async function passkeySignIn(app: TestApp, authenticator: SoftwareAuthenticator, how: AssertOptions = {}, agent = app.agent()) {
  if (!(await agent.get('/login')).text.includes('csrf-token')) throw new Error('no sign-in page');
  await openPage(agent, '/login');
  const response = authenticator.assert(await signInOptions(agent), RP_ID, how);
  return { agent, response, res: await post(agent, '/passkeys/sign-in', { response }) };
}

async function setup(t: TestContext, options: BuildOptions = {}) {
  const app = await build(t, { publicOrigin: ORIGIN, ...options });
  const owner = await signedIn(app, 'alice');
  const authenticator = await addPasskey(owner);
  return { app, owner, authenticator };
}

test('a passkey added from home signs in alone (no password, no captcha) and regenerates the session', async (t) => {
  const { app, owner, authenticator } = await setup(t);
  const home = await owner.get('/').expect(200);
  assert.match(home.text, /Laptop/);
  assert.match(home.text, /<p id="passkeys-none" hidden>/, '"no passkeys yet" is hidden');

  const agent = app.agent();
  await openPage(agent, '/login');
  const before = sessionCookie(await post(agent, '/passkeys/sign-in/options').expect(200));
  const answers = app.answers.length;
  const { res } = await passkeySignIn(app, authenticator, {}, agent);
  assertSignedInResponse(res);
  const after = sessionCookie(res);
  assert.ok(after && after !== before, 'a new session id at sign-in');
  await assertHomeGreets(agent, 'alice');
  assert.equal(app.answers.length, answers, 'no captcha was made or needed');

  const [stored] = await app.stores.passkeys.listFor((await app.stores.users.findByUsername('alice'))?.id ?? -1);
  assert.equal(stored?.counter, 1, 'the counter is stored');
  assert.equal(stored?.lastUsedAt, app.clock.now(), 'and the time of use');
  assert.doesNotMatch(app.logs(), new RegExp(authenticator.id), 'credential ids stay out of the log');
});

test('attack mode asks no proof of work of a passkey sign-in (a passkey cannot be guessed)', async (t) => {
  const attackMode = fixedAttackMode(ATTACK_OFF);
  const { app, authenticator } = await setup(t, { attackMode });
  attackMode.set(ATTACK_ON);
  const { agent, res } = await passkeySignIn(app, authenticator);
  assertSignedInResponse(res);
  await assertHomeGreets(agent, 'alice');
});

test('a signature from another credential and tampered client data are refused', async (t) => {
  const { app, authenticator } = await setup(t);
  const other = await passkeySignIn(app, authenticator, { signWith: SoftwareAuthenticator.otherKey() });
  assertError(other.res, 401, 'passkey_failed');
  await assertSignedOut(other.agent);

  const tampered = await passkeySignIn(app, authenticator, { tamper: (clientData) => (clientData.origin = 'http://localhost:3000 ') });
  assertError(tampered.res, 401, 'passkey_failed');
  const phished = await passkeySignIn(app, new SoftwareAuthenticator('https://evil.example'), {});
  assertError(phished.res, 401, 'passkey_failed');
  assertSignedInResponse((await passkeySignIn(app, authenticator)).res);
});

test("a validly signed assertion of a known passkey is refused for another origin or another site's RP ID", async (t) => {
  const { app, authenticator } = await setup(t);
  // What a phishing page relaying the challenge would get: the browser signs its own origin.
  const wrongOrigin = await passkeySignIn(app, authenticator, { origin: 'https://evil.example' });
  assertError(wrongOrigin.res, 401, 'passkey_failed');
  await assertSignedOut(wrongOrigin.agent);
  assert.match(app.logs(), /Unexpected authentication response origin/, 'refused by the origin check');
  // The right origin in the client data, but the authenticator data made for another RP ID.
  const wrongRpId = await passkeySignIn(app, authenticator, { rpId: 'evil.example' });
  assertError(wrongRpId.res, 401, 'passkey_failed');
  await assertSignedOut(wrongRpId.agent);
  assert.match(app.logs(), /Unexpected RP ID hash/, 'refused by the RP ID check');
  assertSignedInResponse((await passkeySignIn(app, authenticator)).res);
});

test('a new passkey validly signed for another origin or RP ID is not added', async (t) => {
  const { app, owner } = await setup(t);
  for (const how of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }]) {
    const options = (await post(owner, '/passkeys/options').expect(200)).body.options as PublicKeyCredentialCreationOptionsJSON;
    assertError(await post(owner, '/passkeys', { response: new SoftwareAuthenticator(ORIGIN).register(options, how) }), 400, 'passkey_not_added');
  }
  assert.match(app.logs(), /Unexpected registration response origin/);
  assert.match(app.logs(), /Unexpected RP ID hash/);
  assert.equal((await app.stores.passkeys.listFor((await app.stores.users.findByUsername('alice'))?.id ?? -1)).length, 1, 'only the first one');
});

test('a replayed response is refused: each challenge is taken once', async (t) => {
  const { app, authenticator } = await setup(t);
  const { agent, response, res } = await passkeySignIn(app, authenticator);
  assertSignedInResponse(res);
  const replay = app.agent();
  await openPage(replay, '/login');
  assertError(await post(replay, '/passkeys/sign-in', { response }), 400, 'passkey_expired');
  await assertSignedOut(replay);
  assertError(await post(agent, '/passkeys/sign-in', { response }), 400, 'passkey_expired');
});

test('an expired challenge and one the server never issued are refused', async (t) => {
  const { app, authenticator } = await setup(t);
  const agent = app.agent();
  await openPage(agent, '/login');
  const options = await signInOptions(agent);
  app.clock.advance(PASSKEY_CHALLENGE_TTL_MS);
  assertError(await post(agent, '/passkeys/sign-in', { response: authenticator.assert(options, RP_ID) }), 400, 'passkey_expired');

  const made = await passkeySignIn(app, authenticator, { challenge: 'bm90LWlzc3VlZC1ieS10aGUtc2VydmVy' });
  assertError(made.res, 400, 'passkey_expired');
  await assertSignedOut(made.agent);
});

test('a counter that went back (a cloned authenticator) is refused, and the stored counter kept', async (t) => {
  const { app, authenticator } = await setup(t);
  assertSignedInResponse((await passkeySignIn(app, authenticator, { counter: 5 })).res);
  assertError((await passkeySignIn(app, authenticator, { counter: 3 })).res, 401, 'passkey_failed');
  assertError((await passkeySignIn(app, authenticator, { counter: 5 })).res, 401, 'passkey_failed');
  const [stored] = await app.stores.passkeys.listFor((await app.stores.users.findByUsername('alice'))?.id ?? -1);
  assert.equal(stored?.counter, 5);
  assertSignedInResponse((await passkeySignIn(app, authenticator, { counter: 6 })).res);
});

test('a failed assertion counts nowhere, but a network locked by password failures refuses a passkey like a wrong one', async (t) => {
  const { app, authenticator } = await setup(t, { lockout: { afterFailures: 2, accountAfterFailures: 2 } });
  // A credential the server does not know names no account: it locks nothing.
  for (let i = 0; i < 3; i += 1) assertError((await passkeySignIn(app, new SoftwareAuthenticator(ORIGIN))).res, 401, 'passkey_failed');
  // Nor do failed assertions for a known credential: anyone who learnt its id could make them, without a picture.
  for (let i = 0; i < 5; i += 1) {
    assertError((await passkeySignIn(app, authenticator, { signWith: SoftwareAuthenticator.otherKey() })).res, 401, 'passkey_failed');
  }
  assertSignedInResponse((await passkeySignIn(app, authenticator)).res);
  assertSignedInResponse(await signIn(app, app.agent(), { username: 'alice', password: PASSWORD }));

  for (let i = 0; i < 2; i += 1) assertError(await signIn(app, app.agent(), { username: 'alice', password: 'not the password' }), 401, 'bad_credentials');
  assertError((await passkeySignIn(app, authenticator)).res, 401, 'passkey_failed');
  app.clock.advance(61_000);
  assertSignedInResponse((await passkeySignIn(app, authenticator)).res);
});

test('guessing over many networks locks passwords from a new network, not a passkey; the passkey sign-in makes the browser a known device', async (t) => {
  // The app trusts one proxy hop: X-Forwarded-For is the client's address.
  const { app, authenticator } = await setup(t, { trustProxyHops: 1 });
  const passwordFrom = async (ip: string, password: string, agent = app.agent()) => {
    const captchaId = await openForm(agent);
    const captcha = await loadCaptcha(app, agent, captchaId);
    return postForm(agent, '/login', { username: 'alice', password, captcha, captchaId }).set('X-Forwarded-For', ip);
  };
  const passkeyFrom = async (ip: string, how: AssertOptions = {}, agent = app.agent()) => {
    await openPage(agent, '/login');
    const options = (await post(agent, '/passkeys/sign-in/options').set('X-Forwarded-For', ip).expect(200)).body.options as PublicKeyCredentialRequestOptionsJSON;
    return post(agent, '/passkeys/sign-in', { response: authenticator.assert(options, RP_ID, how) }).set('X-Forwarded-For', ip);
  };
  const accountFailures = () =>
    (app.db.prepare("SELECT failures FROM failed_logins WHERE key LIKE 'account:%'").get() as { failures: number } | undefined)?.failures;

  for (let i = 0; i < LOCKOUT_DEFAULTS.accountAfterFailures; i += 1) {
    assertError(await passwordFrom(`10.${i}.0.1`, 'not the password'), 401, 'bad_credentials');
  }
  assertError(await passwordFrom('192.0.2.9', PASSWORD), 401, 'bad_credentials');
  const browser = app.agent();
  assertSignedInResponse(await passkeyFrom('203.0.113.7', {}, browser));

  // Failed assertions from another new network count neither on the account nor on that network.
  const before = accountFailures();
  for (let i = 0; i < LOCKOUT_DEFAULTS.afterFailures; i += 1) {
    assertError(await passkeyFrom('198.51.100.7', { signWith: SoftwareAuthenticator.otherKey() }), 401, 'passkey_failed');
  }
  assert.equal(accountFailures(), before);
  assertSignedInResponse(await passkeyFrom('198.51.100.7'));
  // The browser the passkey signed in is a known device: its password passes the campaign's lock.
  assertSignedInResponse(await passwordFrom('192.0.2.9', PASSWORD, browser));
  assertError(await passwordFrom('192.0.2.9', PASSWORD), 401, 'bad_credentials');
});

test('passkey posts count against the per-IP limits: responses with the sign-in posts, challenges on their own', async (t) => {
  const { app, authenticator } = await setup(t, { ipRateLimits: { postsPerMinute: 3, postsPerHour: 100, imagesPerMinute: 3 } });
  // The setup made 1 challenge (adding) and 2 posts (password sign-in, adding the passkey).
  assertSignedInResponse((await passkeySignIn(app, authenticator)).res);
  const agent = app.agent();
  await openPage(agent, '/login');
  const res = await post(agent, '/passkeys/sign-in', { response: authenticator.assert(await signInOptions(agent), RP_ID) });
  assertError(res, 429, 'rate_limited'); // the 4th post
  assertError(await post(agent, '/passkeys/sign-in/options'), 429, 'rate_limited'); // the 4th challenge
  assert.equal((await agent.get('/get_validCode_img?id=AAAAAAAAAAAAAAAA')).status, 200, 'pictures are counted apart');
});

test('adding and removing need the signed-in session, the form token and the same site; nobody removes another account\'s passkey', async (t) => {
  const { app, owner, authenticator } = await setup(t);
  const stranger = app.agent();
  await openPage(stranger, '/login');
  assertError(await post(stranger, '/passkeys/options'), 401, 'signed_out');
  assertError(await post(stranger, '/passkeys/remove', { id: authenticator.id }), 401, 'signed_out');
  assertError(await owner.post('/passkeys/options').set('X-CSRF-Token', 'forged').send({}), 403, 'csrf_failed');
  assertError(await post(owner, '/passkeys/remove', { id: authenticator.id }).set('Sec-Fetch-Site', 'cross-site'), 403, 'cross_site_request');

  const bob = await signedIn(app, 'bob');
  assertError(await post(bob, '/passkeys/remove', { id: authenticator.id }), 404, 'passkey_not_found');
  // A challenge issued to alice cannot add a passkey to bob's account.
  const options = (await post(owner, '/passkeys/options').expect(200)).body.options as PublicKeyCredentialCreationOptionsJSON;
  assertError(await post(bob, '/passkeys', { response: new SoftwareAuthenticator(ORIGIN).register(options) }), 400, 'passkey_expired');
  assertError(await post(owner, '/passkeys', { response: authenticator.register(options) }), 400, 'passkey_expired');

  const removed = await post(owner, '/passkeys/remove', { id: authenticator.id }).expect(200);
  assert.equal(removed.body.message, 'Passkey "Laptop" removed.');
  assertError(await post(owner, '/passkeys/remove', { id: authenticator.id }), 404, 'passkey_not_found');
  assertError((await passkeySignIn(app, authenticator)).res, 401, 'passkey_failed');
});

test('adding a passkey needs a recent sign-in; removing one does not', async (t) => {
  const { app, owner, authenticator } = await setup(t);
  // Options taken while the sign-in was recent are no good once it is not.
  const options = (await post(owner, '/passkeys/options').expect(200)).body.options as PublicKeyCredentialCreationOptionsJSON;
  app.clock.advance(RECENT_SIGN_IN_MS);
  await post(owner, '/passkeys/options').expect(200); // exactly the limit is still recent
  app.clock.advance(1);
  assertError(await post(owner, '/passkeys/options'), 403, 'reauth_required');
  const late = await post(owner, '/passkeys', { response: new SoftwareAuthenticator(ORIGIN).register(options) });
  assertError(late, 403, 'reauth_required');
  assert.equal(late.body.error.message, 'For your security, sign in again to add a passkey.');
  const zh = await post(owner, '/passkeys/options').set('Accept-Language', 'zh-CN');
  assertError(zh, 403, 'reauth_required');
  assert.equal(zh.body.error.message, '为了你的账号安全，请重新登录后再添加通行密钥。');
  const userId = (await app.stores.users.findByUsername('alice'))?.id ?? -1;
  assert.equal((await app.stores.passkeys.listFor(userId)).length, 1, 'nothing added');
  await assertHomeGreets(owner, 'alice'); // still signed in

  // A fresh sign-in, with the passkey here, allows adding again.
  const { agent, res } = await passkeySignIn(app, authenticator);
  assertSignedInResponse(res);
  await openPage(agent, '/');
  await addPasskey(agent, 'Phone');
  app.clock.advance(RECENT_SIGN_IN_MS + 1);
  await post(agent, '/passkeys/remove', { id: authenticator.id }).expect(200);
  assert.deepEqual((await app.stores.passkeys.listFor(userId)).map((passkey) => passkey.name), ['Phone']);
});

test('an account holds at most 10 passkeys; the same credential is not added twice', async (t) => {
  const { owner, authenticator } = await setup(t);
  const options = (await post(owner, '/passkeys/options').expect(200)).body.options as PublicKeyCredentialCreationOptionsJSON;
  assert.deepEqual(
    options.excludeCredentials?.map((credential) => credential.id),
    [authenticator.id],
    'the browser is told which authenticators have one already',
  );
  assertError(await post(owner, '/passkeys', { response: authenticator.register(options) }), 409, 'passkey_exists');
  for (let i = 2; i <= 9; i += 1) await addPasskey(owner, `Key ${i}`);
  // Two ceremonies started with room for one: the second to finish is refused.
  const first = (await post(owner, '/passkeys/options').expect(200)).body.options as PublicKeyCredentialCreationOptionsJSON;
  const second = (await post(owner, '/passkeys/options').expect(200)).body.options as PublicKeyCredentialCreationOptionsJSON;
  assert.equal((await post(owner, '/passkeys', { response: new SoftwareAuthenticator(ORIGIN).register(first) })).status, 201);
  assertError(await post(owner, '/passkeys', { response: new SoftwareAuthenticator(ORIGIN).register(second) }), 409, 'passkey_limit');
  assertError(await post(owner, '/passkeys/options'), 409, 'passkey_limit');
});

test('malformed passkey bodies get a 400 JSON error, never a 500', async (t) => {
  const { app, owner } = await setup(t);
  const agent = app.agent();
  await openPage(agent, '/login');
  for (const body of [{}, { response: 'x' }, { response: { id: '!!', rawId: '!!', type: 'public-key', response: {} } }]) {
    assertError(await post(agent, '/passkeys/sign-in', body), 400, 'invalid_request');
    assertError(await post(owner, '/passkeys', body), 400, 'invalid_request');
  }
  const garbage = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' } };
  assertError(await post(agent, '/passkeys/sign-in', { response: garbage }), 400, 'invalid_request');
  assertError(await post(owner, '/passkeys', { name: 'x'.repeat(65), response: garbage }), 400, 'invalid_request');
});
