import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { assertError, loadCaptcha, openForm, postForm } from '../helpers/flows.js';

test('captcha images are limited per IP with 429, Retry-After and a message', async (t) => {
  const app = await build(t, { ipRateLimits: { imagesPerMinute: 3 } });
  const agent = app.agent();
  for (let i = 0; i < 3; i += 1) await agent.get('/get_validCode_img').expect(200);
  const limited = await agent.get('/get_validCode_img').set('Accept', 'application/json');
  assertError(limited, 429, 'rate_limited');
  assert.match(String(limited.headers['retry-after']), /^\d+$/);
  assert.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60);
  assert.equal(app.answers.length, 3, 'no answer was made for the refused request');
});

test('sign-in posts are limited per IP over a short and a long window', async (t) => {
  const app = await build(t, { ipRateLimits: { postsPerMinute: 2, postsPerHour: 1000 } });
  const agent = app.agent();
  const captchaId = await openForm(agent);
  for (let i = 0; i < 2; i += 1) {
    const captcha = await loadCaptcha(app, agent, captchaId);
    assertError(await postForm(agent, '/login', { username: 'nobody', password: 'whatever1', captcha, captchaId }), 401, 'bad_credentials');
  }
  const captcha = await loadCaptcha(app, agent, captchaId);
  const limited = await postForm(agent, '/login', { username: 'nobody', password: 'whatever1', captcha, captchaId });
  assertError(limited, 429, 'rate_limited');
  assert.ok(Number(limited.headers['retry-after']) > 0);

  const hourly = await build(t, { ipRateLimits: { postsPerMinute: 100, postsPerHour: 1 } });
  const other = hourly.agent();
  const id = await openForm(other);
  await postForm(other, '/register', { username: 'x', password: 'y', captcha: 'z', captchaId: id });
  assertError(await postForm(other, '/register', { username: 'x', password: 'y', captcha: 'z', captchaId: id }), 429, 'rate_limited');
});

test('a forged X-Forwarded-For does not change the key when no proxy is trusted', async (t) => {
  const app = await build(t, { ipRateLimits: { imagesPerMinute: 2 } });
  const agent = app.agent();
  await agent.get('/get_validCode_img').set('X-Forwarded-For', '203.0.113.1').expect(200);
  await agent.get('/get_validCode_img').set('X-Forwarded-For', '203.0.113.2').expect(200);
  assertError(await agent.get('/get_validCode_img').set('X-Forwarded-For', '203.0.113.3').set('Accept', 'application/json'), 429, 'rate_limited');
});

test('with one trusted proxy hop, the forwarded client address is the key', async (t) => {
  const app = await build(t, { ipRateLimits: { imagesPerMinute: 1 }, trustProxyHops: 1 });
  const agent = app.agent();
  await agent.get('/get_validCode_img').set('X-Forwarded-For', '203.0.113.1').expect(200);
  await agent.get('/get_validCode_img').set('X-Forwarded-For', '203.0.113.2').expect(200);
  assertError(await agent.get('/get_validCode_img').set('X-Forwarded-For', '203.0.113.2').set('Accept', 'application/json'), 429, 'rate_limited');
});

test('password-strength hints have their own, tighter per-IP budget', async (t) => {
  const app = await build(t, { ipRateLimits: { hintsPerMinute: 2, imagesPerMinute: 100 } });
  const agent = app.agent();
  await openForm(agent, '/register');
  for (let i = 0; i < 2; i += 1) await postForm(agent, '/password-strength', { password: `attempt ${i}` }).expect(200);
  assertError(await postForm(agent, '/password-strength', { password: 'attempt 3' }), 429, 'rate_limited');
  await agent.get('/get_validCode_img').expect(200);
});

test('the default hint budget is a third of the picture budget', async () => {
  const { IP_RATE_LIMIT_DEFAULTS } = await import('../../src/http/rate-limits.js');
  assert.deepEqual([IP_RATE_LIMIT_DEFAULTS.hintsPerMinute, IP_RATE_LIMIT_DEFAULTS.imagesPerMinute], [20, 60]);
});
