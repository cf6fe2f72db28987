import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Request } from 'express';
import { renderCaptchaAudio, soundRandom } from '../../src/captcha/audio.js';
import { loadAudioClips } from '../../src/captcha/audio-clips.js';
import { createCaptcha } from '../../src/captcha/index.js';
import { build } from '../helpers/build.js';

const clips = loadAudioClips();

/** The challenge model on the real spent-challenge ledger (SQLite) of a test app. */
async function captchaWith(t: TestContext, generateCode: () => string) {
  const { stores } = await build(t);
  return createCaptcha({ generateCode, ledger: stores.spentChallenges, audioClips: clips });
}

test("a page's sound is its picture's answer, mixed with randomness keyed by that challenge", async (t) => {
  const answers = ['HKW3N', 'MNPRT'];
  const captcha = await captchaWith(t, () => answers.shift() as string);
  // Only the session is read from the request.
  const req = { session: {} } as unknown as Request;
  await captcha.issue(req, 'page');
  const challenge = req.session.captcha?.page;
  assert.ok(challenge);
  for (const locale of ['en', 'zh-CN'] as const) {
    const audio = captcha.audio(req, 'page', locale);
    assert.ok(audio.ok);
    assert.deepEqual(audio.wav, renderCaptchaAudio('HKW3N', clips[locale], soundRandom(challenge.id)));
  }
  await captcha.issue(req, 'page');
  const next = req.session.captcha?.page;
  assert.ok(next && next.answer === 'MNPRT' && next.id !== challenge.id);
  const audio = captcha.audio(req, 'page', 'en');
  assert.ok(audio.ok);
  assert.deepEqual(audio.wav, renderCaptchaAudio('MNPRT', clips.en, soundRandom(next.id)));
});

test('two challenges with the same answer still sound different', async (t) => {
  const captcha = await captchaWith(t, () => 'HKW3N');
  const req = { session: {} } as unknown as Request;
  await captcha.issue(req, 'a');
  await captcha.issue(req, 'b');
  const [a, b] = [captcha.audio(req, 'a', 'en'), captcha.audio(req, 'b', 'en')];
  assert.ok(a.ok && b.ok);
  assert.notDeepEqual(a.wav, b.wav);
});

test("a challenge's sound is mixed once and kept: later downloads are the kept bytes, until it is spent", async (t) => {
  const captcha = await captchaWith(t, () => 'HKW3N');
  const req = { session: {} } as unknown as Request;
  await captcha.issue(req, 'page');
  const challenge = req.session.captcha?.page;
  assert.ok(challenge);
  const [first, second] = [captcha.audio(req, 'page', 'en'), captcha.audio(req, 'page', 'en')];
  assert.ok(first.ok && second.ok);
  assert.equal(second.wav, first.wav, 'the same buffer: kept, not mixed again');
  assert.deepEqual(first.wav, renderCaptchaAudio('HKW3N', clips.en, soundRandom(challenge.id)));
  // A session store that still holds the spent challenge (a stale copy) gets a fresh mix.
  const stale = { session: { captcha: { page: { ...challenge } } } } as unknown as Request;
  await captcha.verify(req, 'page', 'HKW3N');
  const remixed = captcha.audio(stale, 'page', 'en');
  assert.ok(remixed.ok);
  assert.notEqual(remixed.wav, first.wav, 'spending the challenge dropped its kept sound');
  assert.deepEqual(remixed.wav, first.wav, 'and the mix is the same bytes again');
});
