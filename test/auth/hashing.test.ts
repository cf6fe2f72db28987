import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HashingBusyError, createHashingGate, type HashingGate, type Priority } from '../../src/auth/hashing.js';
import { build } from '../helpers/build.js';
import { assertError, assertSignedInResponse, loadCaptcha, openForm, postForm, signIn } from '../helpers/flows.js';
import { holdableFailedLogins } from '../helpers/hold.js';

const alice = { username: 'alice', password: 'correct horse battery staple' };
const bob = { username: 'bob', password: 'violet kettle drums' };

/** A hash that runs until the test lets it finish, recording the order hashes started in. */
function hashes(gate: HashingGate) {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const start = (name: string, priority: Priority) => {
    const ticket = gate.admit(priority);
    const done = ticket.run(
      () =>
        new Promise<string>((resolve) => {
          started.push(name);
          finishers.set(name, () => resolve(name));
        }),
    );
    return { ticket, done };
  };
  const finish = async (name: string) => {
    const release = finishers.get(name);
    assert.ok(release, `${name} is not running`);
    release();
    // Let the finished hash hand its slot on (a few promise turns, no timers).
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { started, start, finish, settle };
}

test('unknown clients never hold the last slot: a known device starts at once while guesses queue', async () => {
  const gate = createHashingGate({ concurrency: 2, unknownQueue: 4 });
  const h = hashes(gate);
  h.start('u1', 'unknown');
  h.start('u2', 'unknown');
  h.start('u3', 'unknown');
  await h.settle();
  assert.deepEqual(h.started, ['u1'], 'one slot of two is all unknown clients get');
  h.start('k1', 'known');
  await h.settle();
  assert.deepEqual(h.started, ['u1', 'k1'], 'the known device did not wait behind u2 and u3');
  assert.deepEqual(gate.load, { known: { active: 1, waiting: 0 }, unknown: { active: 1, waiting: 2 } });
});

test('queued known devices are served before queued unknown clients', async () => {
  const gate = createHashingGate({ concurrency: 2, unknownQueue: 4 });
  const h = hashes(gate);
  h.start('k1', 'known');
  h.start('k2', 'known');
  h.start('u1', 'unknown');
  h.start('k3', 'known');
  await h.settle();
  assert.deepEqual(h.started, ['k1', 'k2']);
  await h.finish('k1');
  assert.deepEqual(h.started, ['k1', 'k2', 'k3'], 'k3 came after u1 but went first');
  await h.finish('k2');
  assert.deepEqual(h.started, ['k1', 'k2', 'k3', 'u1']);
});

test('a full queue of unknown clients is refused at once with a Retry-After estimate; a known device is not', async () => {
  const gate = createHashingGate({ concurrency: 2, unknownQueue: 2 });
  const h = hashes(gate);
  h.start('u1', 'unknown');
  h.start('u2', 'unknown');
  h.start('u3', 'unknown');
  await h.settle();
  assert.throws(
    () => gate.admit('unknown'),
    (err: unknown) => err instanceof HashingBusyError && Number.isInteger(err.retryAfterSeconds) && (err.retryAfterSeconds ?? 0) >= 1,
  );
  h.start('k1', 'known');
  await h.settle();
  assert.deepEqual(h.started, ['u1', 'k1']);
  await h.finish('u1');
  assert.deepEqual(h.started, ['u1', 'k1', 'u2'], 'the queue moves on');
  gate.admit('unknown').cancel();
});

test('a cancelled place is given back, whether it was waiting or already granted', async () => {
  const gate = createHashingGate({ concurrency: 2, unknownQueue: 1 });
  const h = hashes(gate);
  const granted = gate.admit('unknown');
  assert.deepEqual(gate.load.unknown, { active: 1, waiting: 0 }, 'admitted straight into the free slot');
  const waiting = gate.admit('unknown');
  assert.throws(() => gate.admit('unknown'), HashingBusyError);
  waiting.cancel();
  waiting.cancel();
  assert.deepEqual(gate.load.unknown, { active: 1, waiting: 0 });
  granted.cancel();
  assert.deepEqual(gate.load.unknown, { active: 0, waiting: 0 });
  h.start('u1', 'unknown');
  await h.settle();
  assert.deepEqual(h.started, ['u1'], 'the slot came back');
  await assert.rejects(granted.run(async () => 'again'), /used already/);
});

test('with one slot, unknown clients may use it, and known devices still go first in the queue', async () => {
  const gate = createHashingGate({ concurrency: 1, unknownQueue: 4 });
  const h = hashes(gate);
  h.start('u1', 'unknown');
  h.start('u2', 'unknown');
  h.start('k1', 'known');
  await h.settle();
  assert.deepEqual(h.started, ['u1']);
  await h.finish('u1');
  assert.deepEqual(h.started, ['u1', 'k1']);
});

test('a hash that throws still gives its slot back', async () => {
  const gate = createHashingGate({ concurrency: 1, unknownQueue: 1 });
  await assert.rejects(
    gate.admit('known').run(async () => {
      throw new Error('scrypt failed');
    }),
    /scrypt failed/,
  );
  assert.deepEqual(gate.load.known, { active: 0, waiting: 0 });
  assert.equal(await gate.admit('unknown').run(async () => 'ok'), 'ok');
});

test('over HTTP: with unknown clients queued out, a guess gets 503 sign_in_busy (Retry-After, nothing spent or counted) while a known device signs in', async (t) => {
  // Holds unknown clients' attempts inside the lockout step, after they took their place in the gate.
  const lockout = holdableFailedLogins((counts) => !counts.some((count) => count.key.startsWith('device:')));
  const app = await build(t, { scryptUnknownQueue: 0, failedLogins: lockout.wrap });
  await app.createUser(alice.username, alice.password);
  await app.createUser(bob.username, bob.password);
  const owner = app.agent();
  assertSignedInResponse(await signIn(app, owner, alice));

  const { entered, release } = lockout.hold();
  const first = signIn(app, app.agent(), { username: 'bob', password: 'wrong password here' });
  await entered;

  // The one slot unknown clients may hold is taken and their queue is 0 long: refused at once.
  const guesser = app.agent();
  const captchaId = await openForm(guesser);
  const answer = await loadCaptcha(app, guesser, captchaId);
  const busy = await postForm(guesser, '/login', { ...bob, captcha: answer, captchaId }).set('Accept-Language', 'zh-CN');
  assertError(busy, 503, 'sign_in_busy');
  const seconds = Number(busy.headers['retry-after']);
  assert.ok(Number.isInteger(seconds) && seconds >= 1, `Retry-After ${busy.headers['retry-after']}`);
  const message = String((busy.body as { error: { message: string } }).error.message);
  assert.ok(message.includes(`${seconds} 秒后再试`), `the message says when to try again, in the person's language: ${message}`);

  // The known device is not behind them: the other slot is kept for it.
  assertSignedInResponse(await signIn(app, owner, alice));

  release();
  assertError(await first, 401, 'bad_credentials');
  // The refused post spent nothing: the same captcha still signs bob in, and only the first guess was counted.
  assertSignedInResponse(await postForm(guesser, '/login', { ...bob, captcha: answer, captchaId }));
});
