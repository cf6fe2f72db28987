/**
 * The proof of work on the wire (attack mode forced on through createApp's seam): what
 * GET /pow-challenge gives, and which sign-in and sign-up posts the gate lets through.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Challenge } from 'altcha-lib';
import { createPowGate } from '../../src/attack/routes.js';
import { POW_DEFAULTS, createPow } from '../../src/attack/pow.js';
import { TEST_POW, build, type TestApp } from '../helpers/build.js';
import { assertError, assertSignedInResponse, loadCaptcha, openForm, postForm, type Agent } from '../helpers/flows.js';
import { holdableFailedLogins } from '../helpers/hold.js';
import { ATTACK_ON, fixedAttackMode, payPow } from '../helpers/pow.js';

const alice = { username: 'alice', password: 'correct horse battery' };

async function challengeOf(agent: Agent): Promise<Challenge> {
  const res = await agent.get('/pow-challenge').expect(200);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.body.required, true);
  return res.body.challenge as Challenge;
}

/** A form with its captcha read, ready to post. */
async function form(app: TestApp, agent: Agent, page: '/login' | '/register' = '/login') {
  const captchaId = await openForm(agent, page);
  return { captchaId, captcha: await loadCaptcha(app, agent, captchaId) };
}

test('outside attack mode nothing is asked: /pow-challenge says so, and one post signs in', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const res = await agent.get('/pow-challenge').expect(200);
  assert.deepEqual(res.body, { ok: true, required: false });
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, ...(await form(app, agent)) }));
});

test('attack mode: a sign-in without a proof of work is 428 with a challenge, leaves the captcha unspent, and passes once paid', async (t) => {
  const app = await build(t, { attackMode: fixedAttackMode(ATTACK_ON) });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const fields = await form(app, agent);
  const refused = await postForm(agent, '/login', { ...alice, ...fields });
  assertError(refused, 428, 'pow_required');
  const challenge = refused.body.pow.challenge as Challenge;
  assert.equal(challenge.parameters.algorithm, 'PBKDF2/SHA-256');
  assert.deepEqual(challenge.parameters.data, { counterMax: TEST_POW.counterMax, level: 1 });
  assert.ok(challenge.parameters.keySignature && challenge.signature, 'signed, with a key signature (deterministic)');
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, ...fields, pow: await payPow(challenge) }));
});

test('attack mode: a wrong, tampered or malformed proof of work is 400 pow_invalid with a fresh challenge, and the captcha stays unspent', async (t) => {
  const app = await build(t, { attackMode: fixedAttackMode(ATTACK_ON) });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const fields = await form(app, agent);
  const challenge = await challengeOf(agent);
  const paid = JSON.parse(Buffer.from(await payPow(challenge), 'base64').toString()) as { challenge: Challenge; solution: { counter: number; derivedKey: string } };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
  const wrongKey = { ...paid, solution: { ...paid.solution, derivedKey: paid.solution.derivedKey.replace(/^./, (c) => (c === '0' ? '1' : '0')) } };
  const cheaper = { ...paid, challenge: { ...paid.challenge, parameters: { ...paid.challenge.parameters, cost: 1 } } };
  for (const pow of [encode(wrongKey), encode(cheaper), encode({ challenge }), 'not base64 json', '']) {
    const res = await postForm(agent, '/login', { ...alice, ...fields, pow });
    assertError(res, 400, 'pow_invalid');
    assert.notEqual(res.body.pow.challenge.parameters.nonce, challenge.parameters.nonce, 'a fresh challenge');
  }
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, ...fields, pow: encode(paid) }));
});

test('attack mode: a proof of work is good once, and not after it expired', async (t) => {
  const app = await build(t, { attackMode: fixedAttackMode(ATTACK_ON) });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const pow = await payPow(await challengeOf(agent));
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, ...(await form(app, agent)), pow }));
  // Each try from a browser that is not a known device of alice (the one that signed in now is).
  const stranger = app.agent();
  assertError(await postForm(stranger, '/login', { ...alice, ...(await form(app, stranger)), pow }), 400, 'pow_invalid');

  const late = await payPow(await challengeOf(stranger));
  app.clock.advance(POW_DEFAULTS.ttlMs);
  const another = app.agent();
  assertError(await postForm(another, '/login', { ...alice, ...(await form(app, another)), pow: late }), 400, 'pow_invalid');
});

test('attack mode: sign-up needs a proof of work too', async (t) => {
  const app = await build(t, { attackMode: fixedAttackMode(ATTACK_ON) });
  const agent = app.agent();
  const newcomer = { username: 'newcomer', password: 'violet kettle drums at midnight' };
  const fields = await form(app, agent, '/register');
  const refused = await postForm(agent, '/register', { ...newcomer, ...fields });
  assertError(refused, 428, 'pow_required');
  const res = await postForm(agent, '/register', { ...newcomer, ...fields, pow: await payPow(refused.body.pow.challenge as Challenge) });
  assert.equal(res.status, 201, res.text);
});

test('attack mode: a failed sign-in of an unknown client is counted for the detector, a success too', async (t) => {
  const attackMode = fixedAttackMode(ATTACK_ON);
  const app = await build(t, { attackMode });
  await app.createUser(alice.username, alice.password);
  const agent = app.agent();
  const wrong = await postForm(agent, '/login', { ...alice, password: 'wrong password', ...(await form(app, agent)), pow: await payPow(await challengeOf(agent)) });
  assertError(wrong, 401, 'bad_credentials');
  assertSignedInResponse(await postForm(agent, '/login', { ...alice, ...(await form(app, agent)), pow: await payPow(await challengeOf(agent)) }));
  assert.deepEqual(attackMode.outcomes, [true, false]);
});

test('the gate asks nothing of a known device, even in attack mode, and nothing of anyone outside it', async (t) => {
  const app = await build(t);
  const pow = createPow({ sessionSecret: 'x'.repeat(32), ledger: app.stores.spentChallenges, clock: app.clock.now, cost: { ...POW_DEFAULTS, ...TEST_POW } });
  await createPowGate(fixedAttackMode(ATTACK_ON), pow).check(undefined, true);
  await createPowGate(fixedAttackMode({ on: false, level: 0 }), pow).check(undefined, false);
  await assert.rejects(createPowGate(fixedAttackMode(ATTACK_ON), pow).check(undefined, false), { code: 'pow_required' });
});

test("attack mode: a known device's page is asked for no proof of work and signs in with one post; the same browser typing another account is asked (428)", async (t) => {
  const app = await build(t, { attackMode: fixedAttackMode(ATTACK_ON) });
  await app.createUser(alice.username, alice.password);
  const bob = { username: 'bob', password: 'violet kettle drums' };
  await app.createUser(bob.username, bob.password);
  const browser = app.agent();
  const first = await postForm(browser, '/login', { ...alice, ...(await form(app, browser)), pow: await payPow(await challengeOf(browser)) });
  assertSignedInResponse(first);
  const deviceCookie = ([] as string[]).concat(first.headers['set-cookie'] ?? []).find((c) => c.startsWith('captcha_login.device='))?.split(';')[0];
  assert.ok(deviceCookie, 'the sign-in made this browser a known device');

  // Its page is told nothing is needed, and alice signs in with one post.
  assert.deepEqual((await browser.get('/pow-challenge').expect(200)).body, { ok: true, required: false });
  assertSignedInResponse(await postForm(browser, '/login', { ...alice, ...(await form(app, browser)) }));
  // The hint skips nothing: for bob this browser is an unknown client.
  const fields = await form(app, browser);
  const refused = await postForm(browser, '/login', { ...bob, ...fields });
  assertError(refused, 428, 'pow_required');
  assertSignedInResponse(await postForm(browser, '/login', { ...bob, ...fields, pow: await payPow(refused.body.pow.challenge as Challenge) }));
  // Only a cookie this server signed is a hint.
  const forged = deviceCookie.replace(/\.[^.]+$/, '.forged');
  assert.equal((await app.agent().get('/pow-challenge').set('Cookie', forged).expect(200)).body.required, true);
  assert.equal((await app.agent().get('/pow-challenge').set('Cookie', deviceCookie).expect(200)).body.required, false);
});

test('attack mode: a challenge made two levels below the current one is refused and not spent; one level below passes (a solve may span a step)', async (t) => {
  const attackMode = fixedAttackMode({ on: true, level: 1 });
  const app = await build(t, { attackMode });
  await app.createUser(alice.username, alice.password);
  const hoarded = await payPow(await challengeOf(app.agent()));
  attackMode.set({ on: true, level: 3 });
  const bot = app.agent();
  assertError(await postForm(bot, '/login', { ...alice, ...(await form(app, bot)), pow: hoarded }), 400, 'pow_invalid');
  attackMode.set({ on: true, level: 2 });
  const person = app.agent();
  assertSignedInResponse(await postForm(person, '/login', { ...alice, ...(await form(app, person)), pow: hoarded }));
});

test('attack mode: one request at a time per known device skips the proof of work; a second at once from the same cookie is an unknown client (428)', async (t) => {
  const lockout = holdableFailedLogins();
  const app = await build(t, { attackMode: fixedAttackMode(ATTACK_ON), failedLogins: lockout.wrap });
  await app.createUser(alice.username, alice.password);
  const browser = app.agent();
  assertSignedInResponse(await postForm(browser, '/login', { ...alice, ...(await form(app, browser)), pow: await payPow(await challengeOf(browser)) }));

  const fields = await form(app, browser);
  const { entered, release } = lockout.hold();
  // supertest sends on then(): started now, held in the lockout step.
  const first = postForm(browser, '/login', { ...alice, ...fields }).then((res) => res);
  await entered;
  const second = await postForm(browser, '/login', { ...alice, ...(await form(app, browser)) });
  assertError(second, 428, 'pow_required');
  release();
  assertSignedInResponse(await first);
});
