import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handleOf } from '../../src/account/sessions.js';
import { build } from '../helpers/build.js';
import { assertError, assertSignedInResponse, assertSignedOut, csrfTokenOf, openPage, signIn, type Agent } from '../helpers/flows.js';
import { ownRedis } from '../helpers/services.js';
import { waitUntil } from '../helpers/wait.js';

const alice = { username: 'alice', password: 'correct horse battery staple' };
const bob = { username: 'bob', password: 'violet kettle drums at midnight' };
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

function post(agent: Agent, path: string, body: Record<string, unknown>) {
  return agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', csrfTokenOf(agent)).send(body);
}

/** The handles of the session rows a page shows, in order. */
const rowsOf = (html: string) => [...html.matchAll(/data-session-id="([^"]+)"/g)].map((match) => match[1]);

/** The agent's session id, from its cookie (s:<sid>.<signature>). */
function sidOf(agent: Agent): string {
  const cookie = agent.jar.getCookie('captcha_login.sid', { domain: '127.0.0.1', path: '/', secure: false, script: false });
  const sid = /^s%3A([^.]+)\./.exec(cookie?.value ?? '')?.[1];
  assert.ok(sid, 'the agent holds a session cookie');
  return decodeURIComponent(sid);
}

async function signedIn(app: Awaited<ReturnType<typeof build>>, credentials: typeof alice, userAgent = FIREFOX_LINUX): Promise<Agent> {
  const agent = app.agent().set('User-Agent', userAgent);
  assertSignedInResponse(await signIn(app, agent, credentials));
  return agent;
}

test('the page lists the account\'s live sessions with their browser, system and network, this device first, in both languages', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  await app.createUser(bob.username, bob.password);
  await app.agent().get('/account/sessions').expect(303).expect('location', '/login');
  const laptop = await signedIn(app, alice);
  app.clock.advance(60_000);
  const phone = await signedIn(app, alice, SAFARI_IOS);
  await signedIn(app, bob);

  const page = await openPage(laptop, '/account/sessions');
  assert.equal(page.headers['cache-control'], 'no-store');
  assert.deepEqual(rowsOf(page.text), [handleOf(sidOf(laptop)), handleOf(sidOf(phone))], "alice's two, this one first; not bob's");
  assert.match(page.text, /Firefox on Linux\s*<span class="badge[^"]*">This device<\/span>/);
  assert.match(page.text, /Safari on iOS/);
  assert.match(page.text, /<code class="text-body">127\.0\.0\.0\/24<\/code>/);
  assert.ok(!page.text.includes(sidOf(phone)), 'no session id in the page');
  assert.match(page.text, /href="\/account\/sessions" aria-current="page"/, 'the account menu links it');

  const zh = await laptop.get('/account/sessions?lang=zh-CN').expect(200);
  assert.match(zh.text, /Linux 上的 Firefox\s*<span class="badge[^"]*">本设备<\/span>/);
  assert.match(zh.text, /退出其他所有设备/);
});

test('signing out one session of the account: it is signed out at its next request; nothing else is', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  await app.createUser(bob.username, bob.password);
  const laptop = await signedIn(app, alice);
  const phone = await signedIn(app, alice, SAFARI_IOS);
  const bobs = await signedIn(app, bob);
  await openPage(laptop, '/account/sessions');

  const revoked = await post(laptop, '/account/sessions/revoke', { id: handleOf(sidOf(phone)) }).expect(200);
  assert.deepEqual(revoked.body, { ok: true, message: 'That session was signed out.' });
  await assertSignedOut(phone);
  await laptop.get('/').expect(200);
  await bobs.get('/').expect(200);
  assert.deepEqual(rowsOf((await laptop.get('/account/sessions').expect(200)).text), [handleOf(sidOf(laptop))]);
});

test('bad input changes nothing: a malformed id, another account\'s session, this session, a signed-out or cross-site post, a GET', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  await app.createUser(bob.username, bob.password);
  const laptop = await signedIn(app, alice);
  const phone = await signedIn(app, alice, SAFARI_IOS);
  const bobs = await signedIn(app, bob);
  await openPage(laptop, '/account/sessions');
  const phoneId = handleOf(sidOf(phone));

  for (const id of ['', 'short', `${phoneId}x`, `${phoneId.slice(1)}!`, 42, null]) {
    assertError(await post(laptop, '/account/sessions/revoke', { id }), 400, 'invalid_request');
  }
  assertError(await post(laptop, '/account/sessions/revoke', {}), 400, 'invalid_request');
  assertError(await post(laptop, '/account/sessions/revoke', { id: handleOf(sidOf(bobs)) }), 404, 'session_not_found');
  assertError(await post(laptop, '/account/sessions/revoke', { id: handleOf('no-such-session') }), 404, 'session_not_found');
  assertError(await post(laptop, '/account/sessions/revoke', { id: handleOf(sidOf(laptop)) }), 400, 'session_is_current');
  assertError(await post(laptop, '/account/sessions/revoke-others', { everything: true }), 400, 'invalid_request');
  assertError(await post(laptop, '/account/sessions/revoke', { id: phoneId }).set('Sec-Fetch-Site', 'cross-site'), 403, 'cross_site_request');
  assertError(await post(laptop, '/account/sessions/revoke', { id: phoneId }).set('X-CSRF-Token', 'forged'), 403, 'csrf_failed');
  await laptop.get(`/account/sessions/revoke?id=${phoneId}`).expect(404);
  const stranger = app.agent();
  await openPage(stranger, '/login');
  assertError(await post(stranger, '/account/sessions/revoke', { id: phoneId }), 401, 'signed_out');
  assertError(await post(stranger, '/account/sessions/revoke-others', {}), 401, 'signed_out');

  for (const agent of [laptop, phone, bobs]) await agent.get('/').expect(200);
  assert.equal(rowsOf((await laptop.get('/account/sessions').expect(200)).text).length, 2, 'every session is still there');
});

test('"sign out everywhere else" signs out every other session of the account, and keeps this one', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  await app.createUser(bob.username, bob.password);
  const laptop = await signedIn(app, alice);
  const others = [await signedIn(app, alice, SAFARI_IOS), await signedIn(app, alice)];
  const bobs = await signedIn(app, bob);
  await openPage(laptop, '/account/sessions');
  const answer = await post(laptop, '/account/sessions/revoke-others', {}).expect(200);
  assert.deepEqual(answer.body, { ok: true, count: 2, message: 'Signed out everywhere else (2).' });
  for (const agent of others) await assertSignedOut(agent);
  await laptop.get('/').expect(200);
  await bobs.get('/').expect(200);
  const page = await laptop.get('/account/sessions').expect(200);
  assert.match(page.text, /<p id="sessions-only-here">You are signed in only here\.<\/p>/);
  assert.match(page.text, /id="sessions-revoke-others" type="button" class="btn btn-danger" hidden>/);
  assert.equal((await post(laptop, '/account/sessions/revoke-others', {}).expect(200)).body.count, 0);
});

test('Redis hung: the page and its posts answer 503 and sign nobody out; back by itself', { timeout: 30_000 }, async (t) => {
  const redis = await ownRedis(t);
  const app = await build(t, { storage: { redisUrl: redis.url } });
  await app.createUser(alice.username, alice.password);
  const laptop = await signedIn(app, alice);
  const phone = await signedIn(app, alice, SAFARI_IOS);
  await openPage(laptop, '/account/sessions');
  const phoneId = handleOf(sidOf(phone));
  redis.freeze();
  await laptop.get('/account/sessions').expect(503);
  assertError(await post(laptop, '/account/sessions/revoke', { id: phoneId }), 503, 'store_unavailable');
  redis.thaw();
  await waitUntil(async () => (await app.agent().get('/readyz')).status === 200, 5_000, 'Redis to answer again');
  await phone.get('/').expect(200);
  await post(laptop, '/account/sessions/revoke', { id: phoneId }).expect(200);
  await assertSignedOut(phone);
});
