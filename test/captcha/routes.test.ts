import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import {
  assertError,
  assertHomeGreets,
  assertSignedInResponse,
  csrfTokenOf,
  loadCaptcha,
  openForm,
  postForm,
} from '../helpers/flows.js';

const alice = { username: 'alice', password: 'correct horse battery' };
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('the image is an uncacheable PNG and its answer is nowhere in the response', async (t) => {
  const app = await build(t);
  const res = await app.agent().get('/get_validCode_img?id=page1&n=1').buffer(true).expect(200);
  assert.equal(res.headers['content-type'], 'image/png');
  assert.equal(res.headers['cache-control'], 'no-store');
  const body = res.body as Buffer;
  assert.deepEqual(body.subarray(0, 8), PNG_SIGNATURE);
  assert.equal(body.readUInt32BE(16), 270);
  assert.equal(body.readUInt32BE(20), 40);
  const answer = app.answers.at(-1) as string;
  const headers = JSON.stringify(res.headers);
  assert.ok(!headers.toUpperCase().includes(answer), 'answer in the headers or cookie');
  assert.ok(!body.toString('latin1').toUpperCase().includes(answer), 'answer in the PNG bytes');
});

test('every image request makes a new answer and a new picture', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const first = await agent.get('/get_validCode_img?id=p').buffer(true).expect(200);
  const second = await agent.get('/get_validCode_img?id=p').buffer(true).expect(200);
  assert.equal(app.answers.length, 2);
  assert.notDeepEqual(first.body, second.body);
});

test('only the newest image of a page counts', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const old = await loadCaptcha(app, agent, captchaId);
  const fresh = await loadCaptcha(app, agent, captchaId);
  if (old !== fresh) {
    assertError(await postForm(agent, '/login', { ...alice, captcha: old, captchaId }), 400, 'captcha_wrong');
  }
  const again = await loadCaptcha(app, agent, captchaId);
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, captcha: ` ${again.toLowerCase()} `, captchaId }));
});

test('a bad image id is a 400, not a new slot', async (t) => {
  const app = await build(t);
  assertError(await app.agent().get('/get_validCode_img?id=<script>').set('Accept', 'application/json'), 400, 'invalid_request');
  assertError(await app.agent().get('/get_validCode_img?id=a&id=b').set('Accept', 'application/json'), 400, 'invalid_request');
  assert.equal(app.answers.length, 0);
});

test('a captcha is one-time: a replay of a once-right answer fails, right or wrong first', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(app, agent, captchaId);
  const body = { username: 'alice', password: 'wrong password!', captcha, captchaId };
  assertError(await postForm(agent, '/login', body), 401, 'bad_credentials');
  assertError(await postForm(agent, '/login', { ...body, password: alice.password }), 400, 'captcha_missing');

  const second = await loadCaptcha(app, agent, captchaId);
  assertError(await postForm(agent, '/login', { ...body, captcha: 'zz' }), 400, 'captcha_wrong');
  assertError(await postForm(agent, '/login', { ...alice, captcha: second, captchaId }), 400, 'captcha_missing');
});

test('a replay with the session cookie from before the attempt fails too', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const imageRes = await agent.get(`/get_validCode_img?id=${captchaId}`);
  const captcha = app.answers.at(-1) as string;
  const pageCookie = String((await agent.get('/login')).headers['set-cookie']).split(';')[0] as string;
  const cookie = `${String(imageRes.headers['set-cookie']).split(';')[0]}; ${pageCookie}`;
  const body = { username: 'alice', password: 'wrong password!', captcha, captchaId };
  assertError(await postForm(agent, '/login', body), 401, 'bad_credentials');
  const replay = await app
    .agent()
    .post('/login')
    .set('Cookie', cookie)
    .set('X-CSRF-Token', csrfTokenOf(agent))
    .send({ ...alice, captcha, captchaId });
  assertError(replay, 400, 'captcha_missing');
});

test('an answer older than the TTL fails with its own code', async (t) => {
  const app = await build(t, { captcha: { ttlMs: 120_000 } });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(app, agent, captchaId);
  app.clock.advance(120_001);
  assertError(await postForm(agent, '/login', { ...alice, captcha, captchaId }), 400, 'captcha_expired');
  const fresh = await loadCaptcha(app, agent, captchaId);
  app.clock.advance(119_000);
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, captcha: fresh, captchaId }));
});

test('the captcha fails closed: no session, no challenge, empty answer', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  assertError(await postForm(app.agent(), '/login', { ...alice, captcha: 'ABCDE', captchaId: 'x' }), 403, 'csrf_failed');
  const agent = app.agent();
  const captchaId = await openForm(agent);
  await loadCaptcha(app, agent, captchaId);
  assertError(await postForm(agent, '/login', { ...alice, captcha: 'ABCDE', captchaId: 'other' }), 400, 'captcha_missing');
  await loadCaptcha(app, agent, captchaId);
  assertError(await postForm(agent, '/login', { ...alice, captcha: '   ', captchaId }), 400, 'captcha_wrong');
  await loadCaptcha(app, agent, captchaId);
  assertError(await postForm(agent, '/login', { ...alice, captcha: '', captchaId }), 400, 'captcha_wrong');
});

test('simultaneous posts of one right answer: at most one passes the captcha', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(app, agent, captchaId);
  const attempts = await Promise.all(
    Array.from({ length: 8 }, () => postForm(agent, '/login', { username: 'alice', password: 'wrong password!', captcha, captchaId })),
  );
  const passedCaptcha = attempts.filter((res) => (res.body as { error?: { code?: string } }).error?.code !== 'captcha_missing');
  assert.equal(passedCaptcha.length, 1, `passed: ${attempts.map((res) => String(res.status)).join(',')}`);
  assertError(passedCaptcha[0]!, 401, 'bad_credentials');
});

test('two tabs of one browser each keep a working captcha', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const tabA = await openForm(agent);
  const tabB = await openForm(agent);
  assert.notEqual(tabA, tabB);
  const answerA = await loadCaptcha(app, agent, tabA);
  const answerB = await loadCaptcha(app, agent, tabB);
  assertError(await postForm(agent, '/login', { username: 'alice', password: 'typo typo typo', captcha: answerB, captchaId: tabB }), 401, 'bad_credentials');
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, captcha: answerA, captchaId: tabA }));
  await assertHomeGreets(agent, 'alice');
});

test('at most five pages keep a captcha; the oldest is dropped', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const tabs: { id: string; answer: string }[] = [];
  for (let i = 0; i < 6; i += 1) {
    const id = await openForm(agent);
    tabs.push({ id, answer: await loadCaptcha(app, agent, id) });
    app.clock.advance(10);
  }
  const [oldest, , , , , newest] = tabs;
  assertError(await postForm(agent, '/login', { ...alice, captcha: oldest!.answer, captchaId: oldest!.id }), 400, 'captcha_missing');
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, captcha: newest!.answer, captchaId: newest!.id }));
});
