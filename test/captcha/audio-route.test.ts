/**
 * GET /get_validCode_audio over real HTTP: the page's challenge spoken, never a new one,
 * never spent, the same bytes every time, refused clearly once the challenge is gone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Response } from 'supertest';
import { decodeWav } from '../../src/captcha/wav.js';
import { build } from '../helpers/build.js';
import { assertError, assertSignedInResponse, loadCaptcha, openForm, postForm, type Agent } from '../helpers/flows.js';

const alice = { username: 'alice', password: 'correct horse battery' };

function getAudio(agent: Agent, captchaId: string, query = ''): Promise<Response> {
  return agent.get(`/get_validCode_audio?id=${captchaId}${query}`).set('Accept', '*/*').buffer(true);
}

function assertWav(res: Response): Buffer {
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers['content-type'], 'audio/wav');
  assert.equal(res.headers['cache-control'], 'no-store');
  const wav = res.body as Buffer;
  const seconds = decodeWav(wav).samples.length / 16_000;
  assert.ok(seconds > 2 && seconds < 10, `${seconds} s`);
  return wav;
}

test('the audio speaks the page challenge without issuing or spending it, the same bytes every time', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const answer = await loadCaptcha(app, agent, captchaId);
  const first = await getAudio(agent, captchaId, '&n=1');
  const wav = assertWav(first);
  assert.deepEqual(assertWav(await getAudio(agent, captchaId, '&n=2')), wav, 'a second download is the same bytes');
  assert.equal(app.answers.length, 1, 'no new answer was made');
  assert.ok(!JSON.stringify(first.headers).toUpperCase().includes(answer), 'the answer is not in the headers');
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, captcha: answer, captchaId }));
});

test('the audio follows a new picture and the page language', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  await loadCaptcha(app, agent, captchaId);
  const english = assertWav(await getAudio(agent, captchaId, '&lang=en'));
  const chinese = assertWav(await getAudio(agent, captchaId, '&lang=zh-CN'));
  assert.notDeepEqual(chinese, english, 'Chinese is another recording');
  assert.deepEqual(assertWav(await getAudio(agent, captchaId, '&lang=zh-CN')), chinese);
  await loadCaptcha(app, agent, captchaId);
  assert.notDeepEqual(assertWav(await getAudio(agent, captchaId, '&lang=zh-CN')), chinese, 'a new picture, a new sound');
});

test('no audio for a spent, expired, unknown or malformed challenge: a 4xx with a JSON error', async (t) => {
  const app = await build(t, { captcha: { ttlMs: 120_000 } });
  const agent = app.agent();
  assertError(await getAudio(agent, 'none'), 404, 'captcha_audio_missing');
  const captchaId = await openForm(agent);
  assertError(await getAudio(agent, captchaId), 404, 'captcha_audio_missing');
  await loadCaptcha(app, agent, captchaId);
  assertError(await getAudio(agent, 'other-page'), 404, 'captcha_audio_missing');
  assertError(await getAudio(agent, '<script>'), 400, 'invalid_request');

  await postForm(agent, '/login', { ...alice, captcha: 'ZZZZZ', captchaId }).expect(400);
  assertError(await getAudio(agent, captchaId), 404, 'captcha_audio_missing');

  await loadCaptcha(app, agent, captchaId);
  app.clock.advance(119_000);
  assertWav(await getAudio(agent, captchaId));
  app.clock.advance(1_001);
  const expired = await getAudio(agent, captchaId);
  assertError(expired, 410, 'captcha_audio_expired');
  assert.match(expired.body.error.message, /expired/);
  assert.equal(app.answers.length, 2, 'refusals made no answers');
});

test('audio downloads count against the per-IP picture limit', async (t) => {
  const app = await build(t, { ipRateLimits: { imagesPerMinute: 3 } });
  const agent = app.agent();
  const captchaId = await openForm(agent);
  await loadCaptcha(app, agent, captchaId);
  assertWav(await getAudio(agent, captchaId));
  assertWav(await getAudio(agent, captchaId));
  assertError(await getAudio(agent, captchaId), 429, 'rate_limited');
  assertError(await agent.get(`/get_validCode_img?id=${captchaId}`).set('Accept', 'application/json'), 429, 'rate_limited');
});
