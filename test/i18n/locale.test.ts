import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { assertError, openForm, postForm } from '../helpers/flows.js';

test('English by default, with the form labels tied to their inputs', async (t) => {
  const res = await (await build(t)).agent().get('/login').expect(200);
  assert.match(res.text, /<html lang="en">/);
  for (const id of ['username', 'password', 'captcha']) assert.match(res.text, new RegExp(`<label for="${id}"`));
  assert.match(res.text, /autocomplete="username webauthn"/, 'the browser may offer passkeys there');
  assert.match(res.text, /autocomplete="current-password"/);
  assert.match(res.text, /aria-live="assertive"/);
  assert.match(res.text, /alt="Captcha picture/);
  // The hint says what kind of characters to type, that they can be heard, and that case does not matter.
  assert.match(
    res.text,
    /<div id="captcha-help" class="form-text">Type the letters and digits in the picture, left to right, or choose &#34;Listen&#34; to hear them\. Capitals or not, either is fine\.<\/div>/,
  );
});

test('Accept-Language chooses Simplified Chinese', async (t) => {
  const res = await (await build(t)).agent().get('/login').set('Accept-Language', 'zh-CN,zh;q=0.9,en;q=0.5').expect(200);
  assert.match(res.text, /<html lang="zh-CN">/);
  for (const word of ['用户名', '密码', '验证码', '登录', '字母和数字', '播放语音', '不区分大小写']) assert.ok(res.text.includes(word), word);
});

test('the language switch is remembered and also translates errors', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const switched = await agent.get('/login?lang=zh-CN').set('Accept-Language', 'en').expect(200);
  assert.match(String(switched.headers['set-cookie']), /lang=zh-CN/);
  const later = await agent.get('/register').set('Accept-Language', 'en').expect(200);
  assert.match(later.text, /<html lang="zh-CN">/);
  const captchaId = await openForm(agent);
  const res = await postForm(agent, '/login', { username: 'alice', password: 'b', captcha: 'c', captchaId });
  assertError(res, 400, 'captcha_missing');
  assert.match(res.body.error.message, /验证码/);
  const back = await agent.get('/login?lang=en').expect(200);
  assert.match(back.text, /<html lang="en">/);
});

test('an unknown address gets a styled 404 page, or JSON for API clients', async (t) => {
  const app = await build(t);
  const page = await app.agent().get('/no/such/page').set('Accept', 'text/html').expect(404);
  assert.match(page.text, /Page not found/);
  assert.match(page.text, /bootstrap\.min\.css/);
  assertError(await app.agent().get('/no/such/page').set('Accept', 'application/json'), 404, 'not_found');
});

test('Bootstrap and jQuery are served from the app itself', async (t) => {
  const agent = (await build(t)).agent();
  const page = await agent.get('/login').expect(200);
  assert.doesNotMatch(page.text, /https?:\/\/(?!www\.w3)/, 'no external URL in the page');
  await agent.get('/static/bootstrap/css/bootstrap.min.css').expect(200).expect('Content-Type', /css/);
  await agent.get('/static/jquery/jquery.min.js').expect(200).expect('Content-Type', /javascript/);
  await agent.get('/static/js/auth-form.js').expect(200);
});
