import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { CLOCK_SKEW_MS } from '../../src/session/csrf.js';
import {
  assertError,
  assertHomeGreets,
  assertSignedInResponse,
  csrfTokenOf,
  loadCaptcha,
  openForm,
  openPage,
  postForm,
  signIn,
} from '../helpers/flows.js';

const alice = { username: 'alice', password: 'correct horse battery' };

test('login, register and logout posts without the session token are refused with 403', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(app, agent, captchaId);
  for (const path of ['/login', '/register'] as const) {
    const missing = await agent.post(path).send({ ...alice, captcha, captchaId });
    assertError(missing, 403, 'csrf_failed');
    const forged = await agent.post(path).set('X-CSRF-Token', 'A'.repeat(32)).send({ ...alice, captcha, captchaId });
    assertError(forged, 403, 'csrf_failed');
  }
  assert.equal((await postForm(agent, '/login', { ...alice, captcha, captchaId })).status, 200, 'the captcha was not spent by refused posts');

  await openPage(agent, '/');
  assertError(await agent.post('/logout').type('form').send({ _csrf: 'wrong' }).set('Accept', 'application/json'), 403, 'csrf_failed');
  await agent.get('/').expect(200);
  await agent.post('/logout').type('form').send({ _csrf: csrfTokenOf(agent) }).expect(303);
});

test('cross-site posts are refused by Sec-Fetch-Site or Origin, same-origin ones pass', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const body = { username: 'alice', password: 'b', captcha: 'c', captchaId };
  assertError(await postForm(agent, '/login', body).set('Sec-Fetch-Site', 'cross-site'), 403, 'cross_site_request');
  assertError(await postForm(agent, '/login', body).set('Sec-Fetch-Site', 'same-site'), 403, 'cross_site_request');
  assertError(await postForm(agent, '/login', body).set('Origin', 'https://evil.example'), 403, 'cross_site_request');
  assertError(await postForm(agent, '/login', body).set('Origin', 'null'), 403, 'cross_site_request');
  const sameOrigin = await postForm(agent, '/login', body).set('Sec-Fetch-Site', 'same-origin');
  assertError(sameOrigin, 400, 'captcha_missing');
});

test('sign-in issues a new CSRF token with the new session', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const before = (await openForm(agent), csrfTokenOf(agent));
  await signIn(app, agent, alice);
  await openPage(agent, '/');
  assert.notEqual(csrfTokenOf(agent), before);
});

test('page views write no session row: the form token lives in a signed page cookie until a post needs a session', async (t) => {
  const app = await build(t);
  const sessionRows = () => (app.db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n;
  for (let i = 0; i < 100; i += 1) {
    await app.agent().get('/login').expect(200);
    await app.agent().get('/register').expect(200);
    await app.agent().head('/login').expect(200);
  }
  assert.equal(sessionRows(), 0, '300 cookieless page views');

  const agent = app.agent();
  const page = await openPage(agent, '/login');
  assert.match(String(page.headers['set-cookie']), /captcha_login\.csrf=s%3A[^;]+; Max-Age=7200; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Strict/);
  await app.createUser(alice.username, alice.password);
  assertSignedInResponse(await signIn(app, agent, alice));
  assert.equal(sessionRows(), 1, 'the picture made the session, sign-in replaced it');
});

test('a forged or expired page cookie is refused', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const token = csrfTokenOf(agent);
  const body = { username: 'a', password: 'b', captcha: 'c', captchaId };
  const forged = app.agent();
  assertError(await forged.post('/login').set('Cookie', `captcha_login.csrf=${token}.${app.clock.now()}`).set('X-CSRF-Token', token).send(body), 403, 'csrf_failed');
  app.clock.advance(2 * 60 * 60_000 + 1);
  assertError(await postForm(agent, '/login', body), 403, 'csrf_failed');
  await openPage(agent, '/login');
  assert.equal(csrfTokenOf(agent) === token, false, 'an expired page cookie gives way to a new token');
});

test('other tabs keep working after one tab signs in: same token, their captchas move to the new session', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  await app.createUser('bob', 'violet kettle drums');
  const agent = app.agent();
  const tabB = await openForm(agent);
  const tokenB = csrfTokenOf(agent);
  const captchaB = await loadCaptcha(app, agent, tabB);
  assertSignedInResponse(await signIn(app, agent, alice));
  const res = await agent.post('/login').set('X-CSRF-Token', tokenB).send({ username: 'bob', password: 'violet kettle drums', captcha: captchaB, captchaId: tabB });
  assertSignedInResponse(res);
  await assertHomeGreets(agent, 'bob');
});

test('sign-out from a page left open after signing out elsewhere lands on /login', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  await openPage(agent, '/');
  const staleToken = csrfTokenOf(agent);
  await agent.post('/logout').type('form').send({ _csrf: staleToken }).expect(303);
  const again = await agent.post('/logout').type('form').send({ _csrf: staleToken }).expect(303);
  assert.equal(again.headers.location, '/login');
});

test('a page cookie issued by an instance whose clock runs a little ahead is good here; one from far in the future is not', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(app, agent, captchaId);
  // This instance's clock is 2 s behind the one that issued the page (and its cookie).
  app.clock.advance(-2_000);
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, captcha, captchaId }));

  const far = app.agent();
  const farId = await openForm(far);
  const farCaptcha = await loadCaptcha(app, far, farId);
  app.clock.advance(-(CLOCK_SKEW_MS + 1));
  assertError(await postForm(far, '/login', { ...alice, captcha: farCaptcha, captchaId: farId }), 403, 'csrf_failed');
});
