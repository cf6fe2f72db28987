import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreUnavailableError, type UserRepository } from '../../src/storage/ports.js';
import { build } from '../helpers/build.js';
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
} from '../helpers/flows.js';
import { withOverrides } from '../helpers/overrides.js';

const alice = { username: 'alice', password: 'correct horse battery' };

test('a newcomer registers in the browser flow and lands signed in', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const captchaId = await openForm(agent, '/register');
  const captcha = await loadCaptcha(app, agent, captchaId);
  const res = await postForm(agent, '/register', { ...alice, captcha, captchaId });
  assert.equal(res.status, 201);
  assert.deepEqual(res.body, { ok: true, redirect: '/' });
  await assertHomeGreets(agent, 'alice');
});

test('sign-in with the right captcha and password regenerates the session and greets the user', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(app, agent, captchaId);
  const anonymous = await agent.get(`/get_validCode_img?id=${captchaId}`);
  const anonymousCookie = sessionCookie(anonymous);
  const fresh = app.answers.at(-1) as string;
  const res = await postForm(agent, '/login', { ...alice, captcha: fresh.toLowerCase(), captchaId });
  assertSignedInResponse(res);
  assert.notEqual(captcha, undefined);
  const signedInCookie = sessionCookie(res);
  assert.ok(signedInCookie, 'sign-in sets a session cookie');
  assert.notEqual(signedInCookie, anonymousCookie, 'the session id changes at sign-in');
  await assertHomeGreets(agent, 'alice');
});

test('the captcha is checked before the password: a wrong captcha with the right password fails', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(app, agent, captchaId);
  const wrong = captcha === 'AAAAA' ? 'CCCCC' : 'AAAAA';
  assertError(await postForm(agent, '/login', { ...alice, captcha: wrong, captchaId }), 400, 'captcha_wrong');
  await assertSignedOut(agent);
});

test('a wrong password and an unknown user get the same answer', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const wrongPassword = await signIn(app, app.agent(), { username: 'alice', password: 'not the password' });
  const unknownUser = await signIn(app, app.agent(), { username: 'mallory', password: 'not the password' });
  assertError(wrongPassword, 401, 'bad_credentials');
  assertError(unknownUser, 401, 'bad_credentials');
  assert.deepEqual(wrongPassword.body, unknownUser.body);
});

test('usernames are matched without regard to case at sign-in and sign-up', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  assertSignedInResponse(await signIn(app, app.agent(), { username: 'ALICE', password: alice.password }));
  const agent = app.agent();
  const captchaId = await openForm(agent, '/register');
  const captcha = await loadCaptcha(app, agent, captchaId);
  const taken = await postForm(agent, '/register', { username: 'Alice', password: 'another password', captcha, captchaId });
  assertError(taken, 409, 'username_taken');
});

test('sign-up states and enforces the username and password rules', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const page = await agent.get('/register').expect(200);
  assert.match(page.text, /3 to 32 characters/);
  assert.match(page.text, /At least 8 characters/);
  for (const [body, code] of [
    [{ username: 'a b', password: 'long enough password' }, 'invalid_username'],
    [{ username: 'x', password: 'long enough password' }, 'invalid_username'],
    [{ username: 'bob', password: 'short' }, 'invalid_password'],
  ] as const) {
    const captchaId = await openForm(agent, '/register');
    const captcha = await loadCaptcha(app, agent, captchaId);
    assertError(await postForm(agent, '/register', { ...body, captcha, captchaId }), 400, code);
  }
  const count = app.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number };
  assert.equal(count.n, 0);
});

/** The user repository with the reply to the next create lost once `loseNext` is set: the account is made, the request fails (a store blip). */
function losingOneReply(state: { loseNext: boolean }) {
  return (real: UserRepository): UserRepository =>
    withOverrides(real, {
      create: async (...args) => {
        const user = await real.create(...args);
        if (state.loseNext) {
          state.loseNext = false;
          throw new StoreUnavailableError(new Error('the reply was lost'));
        }
        return user;
      },
    });
}

test('the sign-up page sends its one sign-up key with every try: a retry after a 503 that made the account signs in', async (t) => {
  const state = { loseNext: false };
  const app = await build(t, { users: losingOneReply(state) });
  const agent = app.agent();
  const page = await openPage(agent, '/register');
  const key = /data-signup-key="([^"]+)"/.exec(page.text)?.[1];
  assert.match(key ?? '', /^[A-Za-z0-9_-]{22}$/, 'the sign-up page carries a key');
  const again = await openPage(app.agent(), '/register');
  assert.notEqual(/data-signup-key="([^"]+)"/.exec(again.text)?.[1], key, 'a new one per page');
  assert.doesNotMatch((await openPage(app.agent(), '/login')).text, /data-signup-key/, 'the sign-in page has none');

  // What the page script sends on each try: the form, a new captcha answer, the page's key.
  const captchaId = /data-captcha-id="([^"]+)"/.exec(page.text)?.[1] as string;
  const send = async (body: Record<string, string>) => postForm(agent, '/register', { ...body, captcha: await loadCaptcha(app, agent, captchaId), captchaId });
  assertError(await send({ ...alice, signupKey: 'too-short' }), 400, 'invalid_request');
  state.loseNext = true;
  assertError(await send({ ...alice, signupKey: key as string }), 503, 'store_unavailable');
  assert.equal((app.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n, 1, 'the 503 had made the account');
  assertError(await send({ ...alice }), 409, 'username_taken');
  const retried = await send({ ...alice, signupKey: key as string });
  assert.equal(retried.status, 201);
  assert.deepEqual(retried.body, { ok: true, redirect: '/' });
  await assertHomeGreets(agent, 'alice');
  assert.ok(!app.logs().includes(key as string), 'the key is not logged');
});

test('sign-out is a POST that destroys the session; the home page then sends to /login', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  const home = await openPage(agent, '/');
  assert.match(home.text, /<form action="\/logout" method="post"[ >]/);
  await agent.get('/logout').expect(404);
  await assertHomeGreets(agent, 'alice');
  const out = await agent.post('/logout').type('form').send({ _csrf: csrfTokenOf(agent) }).set('Accept', 'text/html').expect(303);
  assert.equal(out.headers.location, '/login');
  await assertSignedOut(agent);
  const rows = app.db.prepare("SELECT count(*) AS n FROM sessions WHERE data LIKE '%alice%'").get() as { n: number };
  assert.equal(rows.n, 0, 'the signed-in session row is gone');
});

test('a request still running when sign-out destroys the session cannot sign the old cookie back in', async (t) => {
  let holding = false;
  let reachedGate!: () => void;
  let openGate!: () => void;
  const atGate = new Promise<void>((resolve) => (reachedGate = resolve));
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const app = await build(t, {
    // A slow sign-in post: it has loaded the session and waits here, at the account lookup.
    users: (real) =>
      withOverrides(real, {
        findByUsername: async (username) => {
          if (holding) {
            reachedGate();
            await gate;
          }
          return real.findByUsername(username);
        },
      }),
  });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const signedIn = await signIn(app, agent, alice);
  const oldCookie = sessionCookie(signedIn);
  assert.ok(oldCookie);
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(app, agent, captchaId);
  holding = true;
  const slow = postForm(agent, '/login', { username: 'alice', password: 'not the password', captcha, captchaId }).then((res) => res);
  await atGate;
  await agent.post('/logout').type('form').send({ _csrf: csrfTokenOf(agent) }).expect(303);
  openGate();
  assertError(await slow, 401, 'bad_credentials');
  const home = await app.agent().get('/').set('Cookie', oldCookie).expect(303);
  assert.equal(home.headers.location, '/login', 'the old cookie stays signed out');
});

test('a restart keeps users and signed-in sessions', async (t) => {
  const first = await build(t);
  await first.createUser(alice.username, alice.password);
  const agent = first.agent();
  const res = await signIn(first, agent, alice);
  const cookie = sessionCookie(res);
  assert.ok(cookie);
  const second = await build(t, { dataDir: first.dataDir });
  const home = await second.agent().get('/').set('Cookie', cookie).expect(200);
  assert.match(home.text, /Hello, alice!/);
});

test('malformed bodies get a 4xx JSON error, never a 500', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  await loadCaptcha(app, agent, captchaId);
  assertError(await agent.post('/login').set('Content-Type', 'application/json').send('{"username":'), 400, 'invalid_json');
  assertError(await agent.post('/login').set('Content-Type', 'text/plain').send('username=a'), 415, 'unsupported_media_type');
  assertError(await postForm(agent, '/login', { username: ['a'], password: 'x', captcha: 'x', captchaId }), 400, 'invalid_request');
  assertError(await postForm(agent, '/login', { username: 'a', password: 'x', captcha: 12345, captchaId }), 400, 'invalid_request');
  assertError(await postForm(agent, '/login', { username: 'a', password: 'x', captcha: 'x' }), 400, 'invalid_request');
  assertError(await postForm(agent, '/login', { username: 'a'.repeat(65), password: 'x', captcha: 'x', captchaId }), 400, 'invalid_request');
  const huge = await agent.post('/login').set('Content-Type', 'application/json').send(JSON.stringify({ username: 'a'.repeat(40_000) }));
  assertError(huge, 413, 'payload_too_large');
});

test('no password, captcha answer or session id reaches the log', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const res = await signIn(app, agent, alice);
  assertSignedInResponse(res);
  await signIn(app, app.agent(), { username: 'alice', password: 'wrong password here' });
  const logs = app.logs();
  assert.match(logs, /"path":"\/login"/, 'requests are logged');
  assert.ok(!logs.includes(alice.password), 'password in log');
  assert.ok(!logs.includes('wrong password here'), 'password in log');
  for (const answer of app.answers) assert.ok(!logs.includes(answer), `captcha answer ${answer} in log`);
  const sid = sessionCookie(res)?.split('=')[1] ?? '';
  assert.ok(sid.length > 10);
  assert.ok(!logs.includes(decodeURIComponent(sid).slice(2, 20)), 'session id in log');
});
