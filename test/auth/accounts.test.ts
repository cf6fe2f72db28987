import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAccounts } from '../../src/auth/accounts.js';
import { SqliteUserRepository } from '../../src/auth/users.js';
import { TEST_SCRYPT, build } from '../helpers/build.js';

/** These tests look at scrypt runs in flight, so each must outlast a turn of the event loop (~40 ms). */
const SLOW_ENOUGH = { ...TEST_SCRYPT, N: 2 ** 14 };

test('at most `concurrency` scrypt computations run at once; the rest queue', async (t) => {
  const app = build(t);
  const accounts = createAccounts(new SqliteUserRepository(app.db), { concurrency: 2, scryptParams: SLOW_ENOUGH });
  const registrations = Array.from({ length: 5 }, (_, i) => accounts.register(`user${i}`, 'a fine passphrase'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(accounts.load, { active: 2, waiting: 3 });
  await Promise.all(registrations);
  assert.deepEqual(accounts.load, { active: 0, waiting: 0 });
});

test('unknown and locked names cost one scrypt verification like a known one', async (t) => {
  const app = build(t);
  const accounts = createAccounts(new SqliteUserRepository(app.db), { concurrency: 1, scryptParams: SLOW_ENOUGH });
  await accounts.register('alice', 'correct horse battery');
  for (const [name, locked] of [['alice', false], ['nobody', false], ['alice', true]] as const) {
    const attempt = accounts.authenticate(name, 'correct horse battery', locked);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(accounts.load.active, 1, `${name} locked=${locked} runs scrypt`);
    const user = await attempt;
    assert.equal(user?.username, name === 'alice' && !locked ? 'alice' : undefined);
  }
});
