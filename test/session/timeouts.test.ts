import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { assertHomeGreets, assertSignedInResponse, assertSignedOut, sessionCookie, signIn } from '../helpers/flows.js';

const alice = { username: 'alice', password: 'correct horse battery' };
const MINUTE = 60_000;

test('a signed-in session ends after 30 idle minutes', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  app.clock.advance(29 * MINUTE);
  await assertHomeGreets(agent, 'alice');
  app.clock.advance(29 * MINUTE);
  await assertHomeGreets(agent, 'alice');
  app.clock.advance(30 * MINUTE + 1);
  await assertSignedOut(agent);
});

test('a signed-in session ends 8 hours after sign-in however active', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  for (let elapsed = 0; elapsed < 8 * 60 * MINUTE - 20 * MINUTE; elapsed += 20 * MINUTE) {
    app.clock.advance(20 * MINUTE);
    await assertHomeGreets(agent, 'alice');
  }
  app.clock.advance(21 * MINUTE);
  await assertSignedOut(agent);
});

test('anonymous sessions get a 10-minute cookie, signed-in ones the idle time', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const image = await agent.get('/get_validCode_img').expect(200);
  const anonymousExpiry = /Expires=([^;]+)/.exec(String(image.headers['set-cookie']))?.[1];
  const anonymousMs = Date.parse(anonymousExpiry ?? '') - Date.parse(String(image.headers.date));
  assert.ok(Math.abs(anonymousMs - 10 * MINUTE) <= 2000, `anonymous cookie lasts ${anonymousMs} ms`);
  const res = await signIn(app, agent, alice);
  assert.ok(sessionCookie(res));
  const sessionSetCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((cookie) => cookie.startsWith('captcha_login.sid='));
  const signedInExpiry = /Expires=([^;]+)/.exec(sessionSetCookie ?? '')?.[1];
  const signedInMs = Date.parse(signedInExpiry ?? '') - Date.parse(String(res.headers.date));
  assert.ok(Math.abs(signedInMs - 30 * MINUTE) <= 2000, `signed-in cookie lasts ${signedInMs} ms`);
});

test('the idle timeout counts from the last request, to the millisecond', async (t) => {
  const app = await build(t, { sessionTimeouts: { idleMs: MINUTE } });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  assertSignedInResponse(await signIn(app, agent, alice));
  for (const wait of [20_000, 20_000, 21_000, 59_999]) {
    app.clock.advance(wait);
    await assertHomeGreets(agent, 'alice');
  }
  app.clock.advance(MINUTE + 1);
  await assertSignedOut(agent);
});
