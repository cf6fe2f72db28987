import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import supertest from 'supertest';
import { composeApp } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { TEST_REDIS_URL, redisPrefix } from './helpers/services.js';

async function composeWith(t: test.TestContext, env: Record<string, string>) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'compose-'));
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  const composed = await composeApp(loadConfig({ DATA_DIR: dataDir, ...env }), logger);
  t.after(async () => {
    await composed.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { ...composed, logs: () => lines.join('') };
}

test('RATE_LIMITS=off turns the per-IP limits off and says so loudly at start-up', async (t) => {
  const off = await composeWith(t, { RATE_LIMITS: 'off', RATE_LIMIT_IMAGES_PER_MINUTE: '1' });
  assert.match(off.logs(), /"level":40.*RATE_LIMITS=off/);
  const agent = supertest.agent(off.app);
  for (let i = 0; i < 3; i += 1) await agent.get('/get_validCode_img').expect(200);
});

test('the production wiring applies the configured limits', async (t) => {
  const on = await composeWith(t, { RATE_LIMIT_IMAGES_PER_MINUTE: '1' });
  assert.doesNotMatch(on.logs(), /RATE_LIMITS=off/);
  const agent = supertest.agent(on.app);
  await agent.get('/get_validCode_img').expect(200);
  await agent.get('/get_validCode_img').expect(429);
});

test('with REDIS_URL two instances share the sessions and the per-IP limits', async (t) => {
  const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: redisPrefix(t), SESSION_SECRET: 'x'.repeat(32), RATE_LIMIT_IMAGES_PER_MINUTE: '3' };
  const [a, b] = [await composeWith(t, env), await composeWith(t, env)];
  const picture = await supertest(a.app).get('/get_validCode_img?id=page1').expect(200);
  const cookie = picture.headers['set-cookie'];
  assert.ok(cookie, 'the picture made a session');
  const sound = await supertest(b.app).get('/get_validCode_audio?id=page1').set('Cookie', cookie).expect(200);
  assert.equal(sound.headers['content-type'], 'audio/wav', 'instance B reads the challenge instance A stored');
  await supertest(a.app).get('/get_validCode_img?id=page2').set('Cookie', cookie).expect(200);
  // The fourth picture or sound from this address, whichever instance counts it.
  await supertest(b.app).get('/get_validCode_img?id=page3').expect(429);
});
