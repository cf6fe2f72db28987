/**
 * The captcha mounted the way another site would (docs/captcha-mount.md): a bare Express 5
 * app, express-session's MemoryStore, the public entry only. One-time, expiry and replay
 * hold through it over real HTTP, and a challenge's sound is mixed once and kept.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import express from 'express';
import session from 'express-session';
import supertest from 'supertest';
import { renderCaptchaAudio, soundRandom } from '../../src/captcha/audio.js';
import { createCodeGenerator } from '../../src/captcha/code.js';
import { CaptchaHttpError, createCaptcha, loadAudioClips, memoryLedger, registerCaptchaFonts } from '../../src/captcha/index.js';

const clips = loadAudioClips();

/** The site: everything between the two rules is what a site writes (see docs/captcha-mount.md). */
function site(clock: () => number, generateCode: () => string) {
  // ---- app code ----
  registerCaptchaFonts();
  const store = new session.MemoryStore();
  const captcha = createCaptcha({ ledger: memoryLedger(clock), audioClips: clips, ttlMs: 60_000, clock, generateCode });

  const app = express();
  app.use(session({ store, secret: 'a long random secret of the site', resave: false, saveUninitialized: false }));
  app.use('/captcha', captcha.routes);
  app.post('/signup', express.json(), async (req, res) => {
    const body = req.body as { captchaId?: unknown; captcha?: unknown };
    const verdict = await captcha.verify(req, String(body.captchaId), body.captcha);
    if (!verdict.ok) {
      res.status(400).json({ error: verdict.reason });
      return;
    }
    res.json({ ok: true });
  });
  app.use(((err, _req, res, _next) => {
    res.status(err instanceof CaptchaHttpError ? err.status : 500).json({ error: err instanceof CaptchaHttpError ? err.code : 'internal' });
  }) satisfies express.ErrorRequestHandler);
  // ---- end of app code (18 lines) ----
  return { app, store };
}

function setUp() {
  let time = Date.UTC(2026, 0, 1);
  const answers: string[] = [];
  const real = createCodeGenerator();
  const { app, store } = site(
    () => time,
    () => {
      answers.push(real());
      return answers.at(-1) as string;
    },
  );
  return { app, store, answers, agent: () => supertest.agent(app), advance: (ms: number) => (time += ms) };
}

const picture = (agent: supertest.Agent, id: string) => agent.get(`/captcha/get_validCode_img?id=${id}`).buffer(true).expect(200).expect('Content-Type', 'image/png');
const sound = (agent: supertest.Agent, id: string, lang = 'en') => agent.get(`/captcha/get_validCode_audio?id=${id}&lang=${lang}`).buffer(true);
const signUp = (agent: supertest.Agent, captchaId: string, captcha: string) => agent.post('/signup').send({ captchaId, captcha });

test('one-time: the right answer passes once; a second use fails, right or wrong first', async () => {
  const { agent: newAgent, answers } = setUp();
  const agent = newAgent();
  await picture(agent, 'page');
  await signUp(agent, 'page', answers.at(-1)!.toLowerCase()).expect(200);
  await signUp(agent, 'page', answers.at(-1)!).expect(400, { error: 'missing' });

  await picture(agent, 'page');
  await signUp(agent, 'page', 'ZZZ').expect(400, { error: 'wrong' });
  await signUp(agent, 'page', answers.at(-1)!).expect(400, { error: 'missing' });
  await signUp(newAgent(), 'page', answers.at(-1)!).expect(400, { error: 'missing' });
});

test('expiry: past the TTL the answer fails as expired and the sound is gone (manual clock)', async () => {
  const { agent: newAgent, answers, advance } = setUp();
  const agent = newAgent();
  await picture(agent, 'p');
  advance(60_000);
  await sound(agent, 'p').expect(200);
  await signUp(agent, 'p', answers.at(-1)!).expect(200);

  await picture(agent, 'p');
  advance(60_001);
  await sound(agent, 'p').expect(410, { error: 'captcha_audio_expired' });
  await signUp(agent, 'p', answers.at(-1)!).expect(400, { error: 'expired' });
  await sound(agent, 'p').expect(404, { error: 'captcha_audio_missing' });
});

test('replay: simultaneous posts of the right answer on one session, exactly one passes', async () => {
  const { agent: newAgent, answers } = setUp();
  const agent = newAgent();
  await picture(agent, 'p');
  // MemoryStore hands each request its own copy of the session: all eight see the challenge,
  // only the ledger's claim tells them apart.
  const posts = await Promise.all(Array.from({ length: 8 }, () => signUp(agent, 'p', answers.at(-1)!)));
  assert.deepEqual(posts.map((res) => res.status).sort(), [200, 400, 400, 400, 400, 400, 400, 400]);
  assert.ok(posts.filter((res) => res.status === 400).every((res) => res.body.error === 'missing'));
});

test('the sound: the same bytes every time, as the mixer makes them for this challenge; refusals are 4xx', async () => {
  const { agent: newAgent, store } = setUp();
  const agent = newAgent();
  await picture(agent, 'p');
  const first = await sound(agent, 'p').expect(200).expect('Content-Type', 'audio/wav');
  const again = await sound(agent, 'p').expect(200);
  assert.deepEqual(again.body, first.body);
  const sessions = await new Promise<Record<string, session.SessionData>>((resolve, reject) =>
    store.all((err, all) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(all as Record<string, session.SessionData>))),
  );
  const challenge = Object.values(sessions)[0]?.captcha?.p;
  assert.ok(challenge);
  assert.deepEqual(first.body, renderCaptchaAudio(challenge.answer, clips.en, soundRandom(challenge.id)));
  assert.deepEqual((await sound(agent, 'p', 'zh-CN').expect(200)).body, renderCaptchaAudio(challenge.answer, clips['zh-CN'], soundRandom(challenge.id)));
  await sound(agent, 'other').expect(404, { error: 'captcha_audio_missing' });
  await sound(agent, '<bad>').expect(400, { error: 'invalid_request' });
});
