import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { AccountRuleError, createAccounts, type AccountsOptions } from '../../src/auth/accounts.js';
import { createStrengthEstimator } from '../../src/auth/password-strength.js';
import { TEST_SCRYPT, build } from '../helpers/build.js';

/** These tests look at scrypt runs in flight, so each must outlast a turn of the event loop (~40 ms). */
const SLOW_ENOUGH = { ...TEST_SCRYPT, N: 2 ** 14 };

async function accountsFor(t: TestContext, options: Omit<AccountsOptions, 'strength'>) {
  const app = await build(t);
  const strength = createStrengthEstimator();
  t.after(() => strength.close());
  return { app, accounts: createAccounts(app.stores.users, { strength, ...options }) };
}

test('sign-up rules live in the accounts module: name, length, strength, uniqueness', async (t) => {
  const { app, accounts } = await accountsFor(t, { scryptParams: TEST_SCRYPT });
  for (const [username, password, rule] of [
    ['a b', 'violet kettle drums', 'invalid_username'],
    ['x', 'violet kettle drums', 'invalid_username'],
    ['bob', 'short', 'invalid_password'],
    ['bob', 'password1', 'weak_password'],
    ['rosalind1987', 'rosalind1987', 'weak_password'],
  ] as const) {
    await assert.rejects(accounts.register(username, password), (err: unknown) => err instanceof AccountRuleError && err.rule === rule, `${username} / ${password}`);
  }
  await accounts.register('bob', 'violet kettle drums');
  await assert.rejects(accounts.register('BOB', 'another fine passphrase'), (err: unknown) => err instanceof AccountRuleError && err.rule === 'username_taken');
  assert.equal((app.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n, 1);
});

test('at most `concurrency` scrypt computations run at once; the rest queue', async (t) => {
  const { accounts } = await accountsFor(t, { concurrency: 2, scryptParams: SLOW_ENOUGH });
  await accounts.register('alice', 'correct horse battery');
  const alice = await accounts.find('alice');
  const attempts = Array.from({ length: 5 }, () => accounts.authenticate(alice, 'correct horse battery'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(accounts.load, { active: 2, waiting: 3 });
  await Promise.all(attempts);
  assert.deepEqual(accounts.load, { active: 0, waiting: 0 });
});

test('unknown and locked names cost one scrypt verification like a known one', async (t) => {
  const { accounts } = await accountsFor(t, { concurrency: 1, scryptParams: SLOW_ENOUGH });
  await accounts.register('alice', 'correct horse battery');
  for (const [name, locked] of [['alice', false], ['nobody', false], ['alice', true]] as const) {
    const attempt = accounts.authenticate(await accounts.find(name), 'correct horse battery', locked);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(accounts.load.active, 1, `${name} locked=${locked} runs scrypt`);
    const user = await attempt;
    assert.equal(user?.username, name === 'alice' && !locked ? 'alice' : undefined);
  }
});
