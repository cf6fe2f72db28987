import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { assertError, csrfTokenOf, loadCaptcha, openForm, openPage, postForm, signIn } from '../helpers/flows.js';

const alice = { username: 'alice', password: 'correct horse battery' };

test('login, register and logout posts without the session token are refused with 403', async (t) => {
  const app = build(t);
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
  const app = build(t);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const body = { username: 'a', password: 'b', captcha: 'c', captchaId };
  assertError(await postForm(agent, '/login', body).set('Sec-Fetch-Site', 'cross-site'), 403, 'cross_site_request');
  assertError(await postForm(agent, '/login', body).set('Sec-Fetch-Site', 'same-site'), 403, 'cross_site_request');
  assertError(await postForm(agent, '/login', body).set('Origin', 'https://evil.example'), 403, 'cross_site_request');
  assertError(await postForm(agent, '/login', body).set('Origin', 'null'), 403, 'cross_site_request');
  const sameOrigin = await postForm(agent, '/login', body).set('Sec-Fetch-Site', 'same-origin');
  assertError(sameOrigin, 400, 'captcha_missing');
});

test('sign-in issues a new CSRF token with the new session', async (t) => {
  const app = build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const before = (await openForm(agent), csrfTokenOf(agent));
  await signIn(app, agent, alice);
  await openPage(agent, '/');
  assert.notEqual(csrfTokenOf(agent), before);
});
