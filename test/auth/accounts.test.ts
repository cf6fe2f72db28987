import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { AccountRuleError, createAccounts, newSignupKey, type AccountsOptions } from '../../src/auth/accounts.js';
import { createStrengthEstimator } from '../../src/auth/password-strength.js';
import { SIGNUP_KEY_MS } from '../../src/storage/ports.js';
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

const isTaken = (err: unknown) => err instanceof AccountRuleError && err.rule === 'username_taken';

test('a name taken by an earlier try of the same sign-up (its key and password, within SIGNUP_KEY_MS) resolves that account; nothing else does', async (t) => {
  let now: number | undefined;
  const { app, accounts } = await accountsFor(t, { scryptParams: TEST_SCRYPT, clock: () => now ?? Date.now() });
  const key = newSignupKey();
  const made = await accounts.register('carol', 'violet kettle drums', key);
  assert.deepEqual(await accounts.register('carol', 'violet kettle drums', key), made, 'the retry completes the sign-up');
  assert.deepEqual(await accounts.register('CAROL', 'violet kettle drums', key), made, 'the name in another case is the same account');
  await assert.rejects(accounts.register('carol', 'violet kettle drums', newSignupKey()), isTaken, 'another form (another person), even with the same password');
  await assert.rejects(accounts.register('carol', 'violet kettle drums'), isTaken, 'no key');
  await assert.rejects(accounts.register('carol', 'violet kettle drums at noon', key), isTaken, 'the same key with another password');
  now = made.createdAt + SIGNUP_KEY_MS;
  assert.deepEqual(await accounts.register('carol', 'violet kettle drums', key), made, 'still within the window at its last millisecond');
  now = made.createdAt + SIGNUP_KEY_MS + 1;
  await assert.rejects(accounts.register('carol', 'violet kettle drums', key), isTaken, 'after the window the key completes nothing');

  const rows = app.db.prepare('SELECT signup_key_hash FROM users').all() as Array<{ signup_key_hash: string | null }>;
  assert.deepEqual(rows, [{ signup_key_hash: createHash('sha256').update(key).digest('hex') }], 'one account; only the hash of the key is kept');
  await accounts.register('dave', 'violet kettle drums');
  assert.equal((app.db.prepare("SELECT signup_key_hash FROM users WHERE username = 'dave'").get() as { signup_key_hash: unknown }).signup_key_hash, null, 'no key, no hash (the CLI)');
});

test('another key for a taken name costs no scrypt: only the holder of the key gets the password compared', async (t) => {
  const { accounts } = await accountsFor(t, { concurrency: 1, scryptParams: SLOW_ENOUGH });
  const key = newSignupKey();
  await accounts.register('erin', 'violet kettle drums', key);
  for (const [label, other] of [['another key', newSignupKey()], ['no key', undefined]] as const) {
    const refused = assert.rejects(accounts.register('erin', 'violet kettle drums', other), isTaken);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(accounts.load.active, 0, label);
    await refused;
  }
  const retry = accounts.register('erin', 'violet kettle drums', key);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(accounts.load.active, 1, 'the same key: one scrypt verification');
  assert.equal((await retry).username, 'erin');
});

test('two tries of one sign-up racing (the first still running when the retry comes) both resolve the one account; another form is refused', async (t) => {
  const { app, accounts } = await accountsFor(t, { scryptParams: TEST_SCRYPT });
  const key = newSignupKey();
  const [first, second] = await Promise.allSettled([accounts.register('frank', 'violet kettle drums', key), accounts.register('frank', 'violet kettle drums', key)]);
  // Another form after them (racing them, it may win the name itself: then the two are the ones refused).
  const [other] = await Promise.allSettled([accounts.register('frank', 'violet kettle drums', newSignupKey())]);
  assert.equal(first?.status, 'fulfilled', 'both tries of the form resolve…');
  assert.equal(second?.status, 'fulfilled');
  assert.deepEqual(first.status === 'fulfilled' && first.value, second.status === 'fulfilled' && second.value, '…to the same account');
  assert.ok(other?.status === 'rejected' && isTaken(other.reason), 'the other form is told the name is taken');
  assert.equal((app.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n, 1);
});
