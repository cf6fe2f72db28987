import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lockDuration, LOCKOUT_DEFAULTS } from '../../src/auth/lockout.js';
import { build } from '../helpers/build.js';
import { assertError, assertSignedInResponse, signIn } from '../helpers/flows.js';

const alice = { username: 'alice', password: 'correct horse battery' };
const wrong = { username: 'alice', password: 'not the password' };

test('the lock grows from 1 minute, doubling, capped at 15 minutes', () => {
  const minutes = [4, 5, 6, 7, 8, 9, 10, 40].map((failures) => lockDuration(LOCKOUT_DEFAULTS, failures) / 60_000);
  assert.deepEqual(minutes, [0, 1, 2, 4, 8, 15, 15, 15]);
});

test('five failures lock the account; a locked account answers exactly like a wrong password', async (t) => {
  const app = build(t);
  await app.createUser(alice.username, alice.password);
  const wrongAnswers = [];
  for (let i = 0; i < 5; i += 1) wrongAnswers.push((await signIn(app, app.agent(), wrong)).body);
  const locked = await signIn(app, app.agent(), alice);
  assertError(locked, 401, 'bad_credentials');
  assert.deepEqual(locked.body, wrongAnswers[0], 'same body as a wrong password');
  assert.equal(locked.headers['retry-after'], undefined, 'nothing tells the account is locked');

  app.clock.advance(60_001);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
});

test('the lock doubles with each failure past the threshold, and success clears the count', async (t) => {
  const app = build(t);
  await app.createUser(alice.username, alice.password);
  for (let i = 0; i < 5; i += 1) await signIn(app, app.agent(), wrong);
  app.clock.advance(60_001);
  await signIn(app, app.agent(), wrong);
  app.clock.advance(60_001);
  assertError(await signIn(app, app.agent(), alice), 401, 'bad_credentials');
  app.clock.advance(60_000);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
  for (let i = 0; i < 4; i += 1) await signIn(app, app.agent(), wrong);
  assertSignedInResponse(await signIn(app, app.agent(), alice));
});

test('failures are counted for unknown names too, without regard to case', async (t) => {
  const app = build(t, { lockout: { afterFailures: 2 } });
  await app.createUser(alice.username, alice.password);
  await signIn(app, app.agent(), { username: 'ALICE', password: 'nope nope' });
  await signIn(app, app.agent(), { username: 'Alice', password: 'nope nope' });
  assertError(await signIn(app, app.agent(), alice), 401, 'bad_credentials');
  const rows = app.db.prepare("SELECT count(*) AS n FROM failed_logins WHERE key = 'ghost'").get() as { n: number };
  assert.equal(rows.n, 0);
  await signIn(app, app.agent(), { username: 'ghost', password: 'nope nope' });
  const after = app.db.prepare("SELECT failures FROM failed_logins WHERE key = 'ghost'").get() as { failures: number };
  assert.equal(after.failures, 1);
});
