import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { openForm, postForm } from '../helpers/flows.js';

test('form posts are answered with no-store, errors included', async (t) => {
  const agent = (await build(t)).agent();
  const captchaId = await openForm(agent);
  const res = await postForm(agent, '/login', { username: 'alice', password: 'b', captcha: 'c', captchaId });
  assert.equal(res.status, 400);
  assert.equal(res.headers['cache-control'], 'no-store');
});

test('pages carry a strict CSP and are not cached or framed', async (t) => {
  const res = await (await build(t)).agent().get('/login').expect(200);
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.headers['referrer-policy'], 'no-referrer');
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.headers['x-powered-by'], undefined);
  assert.doesNotMatch(res.text, /<script>|\son[a-z]+="/i, 'no inline script or handler');
});

test('the session cookie is httpOnly, SameSite=Lax and only set once there is state', async (t) => {
  const app = await build(t);
  const bare = await app.agent().get('/nothing-here').expect(404);
  assert.equal(bare.headers['set-cookie'], undefined, 'a request that keeps nothing stores no session');
  const image = await app.agent().get('/get_validCode_img').expect(200);
  const cookie = String(image.headers['set-cookie']);
  assert.match(cookie, /^captcha_login\.sid=/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
});
