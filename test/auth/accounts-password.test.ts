import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { SessionData } from 'express-session';
import { AccountRuleError, hashFingerprint, createAccounts, type AccountRule } from '../../src/auth/accounts.js';
import { createStrengthEstimator } from '../../src/auth/password-strength.js';
import { verifyPassword } from '../../src/auth/passwords.js';
import { openStores } from '../../src/storage/index.js';
import { StoreUnavailableError, type SessionIndex } from '../../src/storage/ports.js';
import { TEST_SCRYPT } from '../helpers/build.js';
import { call, tempDir } from '../storage/contract.js';
import { RECENT_SIGN_IN_MS } from '../../src/session/timeouts.js';

const OLD = 'correct horse battery staple';
const NEW = 'violet kettle drums at midnight';

async function setup(t: TestContext) {
  const stores = await openStores({ dataDir: tempDir(t, 'accounts-password-'), pruneIntervalMs: 0 });
  t.after(() => stores.close());
  const strength = createStrengthEstimator();
  t.after(() => strength.close());
  let now = Date.now();
  const accounts = createAccounts(stores.users, { strength, scryptParams: TEST_SCRYPT, clock: () => now });
  const alice = await accounts.register('alice', OLD);
  const bob = await accounts.register('bob', OLD);
  const put = async (sid: string, userId: number) => {
    const record: SessionData = { cookie: { expires: new Date(now + 60 * 60_000), originalMaxAge: 60 * 60_000 }, user: { id: userId, username: 'x', signedInAt: now } };
    await call((cb) => stores.sessionStore.set(sid, record, cb));
  };
  const alive = async (sid: string) => (await call<SessionData | null>((cb) => stores.sessionStore.get(sid, cb))) !== null;
  const hashOf = async (username: string) => (await stores.users.findByUsername(username))?.passwordHash ?? '';
  for (const sid of ['here', 'phone', 'laptop']) await put(sid, alice.id);
  await put('bobs', bob.id);
  return { stores, accounts, alice, bob, alive, hashOf, advance: (ms: number) => (now += ms), signedInAt: now };
}

/** A session's side of a change: the mark it keeps (PasswordChange.remember), as the route keeps it in the session. */
function sessionMarks() {
  const held: { mark: string | undefined } = { mark: undefined };
  return Object.assign(held, {
    remember: async (mark: string) => {
      held.mark = mark;
    },
  });
}

const refusedAs = (rule: AccountRule) => (err: unknown) => err instanceof AccountRuleError && err.rule === rule;

test('changing a password applies the sign-up rules and needs the current one, and nothing changes when refused', async (t) => {
  const { stores, accounts, alice, alive, hashOf, advance, signedInAt } = await setup(t);
  const user = { id: alice.id, username: 'alice', signedInAt };
  const before = await hashOf('alice');
  advance(RECENT_SIGN_IN_MS + 1);
  for (const [current, next, rule] of [
    [OLD, 'short', 'invalid_password'],
    [OLD, 'password1', 'weak_password'],
    [OLD, 'alice1234', 'weak_password'],
    [undefined, NEW, 'current_password_required'],
    ['', NEW, 'current_password_required'],
    ['not the password', NEW, 'wrong_password'],
  ] as const) {
    await assert.rejects(accounts.changePassword({ user, sid: 'here', current, next, ...sessionMarks() }, stores.sessionIndex), refusedAs(rule), `${current} → ${next}`);
  }
  assert.equal(await hashOf('alice'), before, 'the password is unchanged');
  for (const sid of ['here', 'phone', 'laptop']) assert.equal(await alive(sid), true, `${sid} is still signed in`);
});

test('a changed password signs out every other session of the account; this one stays, and other accounts are untouched', async (t) => {
  const { stores, accounts, alice, alive, hashOf, advance, signedInAt } = await setup(t);
  advance(RECENT_SIGN_IN_MS + 1);
  const signedOut = await accounts.changePassword({ user: { id: alice.id, username: 'alice', signedInAt }, sid: 'here', current: OLD, next: NEW, ...sessionMarks() }, stores.sessionIndex);
  assert.equal(signedOut, 2);
  assert.equal(await verifyPassword(NEW, await hashOf('alice')), true);
  assert.equal(await verifyPassword(OLD, await hashOf('bob')), true, "bob's password is his own");
  assert.deepEqual([await alive('here'), await alive('phone'), await alive('laptop'), await alive('bobs')], [true, false, false, true]);
});

test('within RECENT_SIGN_IN_MS of signing in the current password may be left out, but one typed must be right', async (t) => {
  const { stores, accounts, alice, hashOf, advance, signedInAt } = await setup(t);
  const user = { id: alice.id, username: 'alice', signedInAt };
  advance(RECENT_SIGN_IN_MS);
  await assert.rejects(accounts.changePassword({ user, sid: 'here', current: 'a wrong guess', next: NEW, ...sessionMarks() }, stores.sessionIndex), refusedAs('wrong_password'));
  assert.equal(await accounts.changePassword({ user, sid: 'here', current: undefined, next: NEW, ...sessionMarks() }, stores.sessionIndex), 2);
  assert.equal(await verifyPassword(NEW, await hashOf('alice')), true);
});

test('a change answered 503 after its hash was stored is completed by its retry (the same form), and by no other', async (t) => {
  const { stores, accounts, alice, alive, hashOf, advance, signedInAt } = await setup(t);
  let failNext = true;
  const flaky: SessionIndex = {
    listFor: (...args) => stores.sessionIndex.listFor(...args),
    destroyFor: (...args) => stores.sessionIndex.destroyFor(...args),
    destroyAllFor: async (...args) => {
      if (failNext) {
        failNext = false;
        throw new StoreUnavailableError(new Error('connection reset'));
      }
      return stores.sessionIndex.destroyAllFor(...args);
    },
  };
  advance(RECENT_SIGN_IN_MS + 1);
  const here = sessionMarks();
  const change = { user: { id: alice.id, username: 'alice', signedInAt }, sid: 'here', current: OLD, next: NEW };
  await assert.rejects(accounts.changePassword({ ...change, ...here }, flaky), StoreUnavailableError);
  assert.equal(await verifyPassword(NEW, await hashOf('alice')), true, 'the hash was stored');
  assert.equal(await alive('phone'), true, 'the sign-out failed');
  assert.ok(here.mark, 'the session kept its mark of the change');
  await assert.rejects(accounts.changePassword({ ...change, ...here, next: 'another fine passphrase here' }, flaky), refusedAs('wrong_password'), 'another form');
  // Another session (say a stolen one) typing the stored password as the new one is not that retry.
  await assert.rejects(accounts.changePassword({ ...change, sid: 'phone', ...sessionMarks() }, flaky), refusedAs('wrong_password'), 'no mark');
  assert.equal(await alive('phone'), true);
  assert.equal(await accounts.changePassword({ ...change, ...here }, flaky), 2, 'the retry signs the others out');
  assert.deepEqual([await alive('here'), await alive('phone')], [true, false]);
});

test('a wrong current password is only that, even when the new one is the password: no second guess, nothing changed', async (t) => {
  const { stores, accounts, alice, alive, hashOf, advance, signedInAt } = await setup(t);
  advance(RECENT_SIGN_IN_MS + 1);
  const before = await hashOf('alice');
  const marks = sessionMarks();
  const guess = { user: { id: alice.id, username: 'alice', signedInAt }, sid: 'here', current: 'a wrong guess', next: OLD, ...marks };
  await assert.rejects(accounts.changePassword(guess, stores.sessionIndex), refusedAs('wrong_password'));
  // A mark of some other hash (an earlier change since superseded) does not open the path either.
  await assert.rejects(accounts.changePassword({ ...guess, mark: hashFingerprint('not the stored hash') }, stores.sessionIndex), refusedAs('wrong_password'));
  assert.equal(marks.mark, undefined, 'nothing was stored, so nothing was marked');
  assert.equal(await hashOf('alice'), before);
  for (const sid of ['phone', 'laptop']) assert.equal(await alive(sid), true, `${sid} is still signed in`);
});

test('an operator reset applies the sign-up rules and signs out every session of the account', async (t) => {
  const { stores, accounts, alive, hashOf } = await setup(t);
  await assert.rejects(accounts.resetPassword('nobody', NEW, stores.sessionIndex), refusedAs('account_not_found'));
  await assert.rejects(accounts.resetPassword('alice', 'password1', stores.sessionIndex), refusedAs('weak_password'));
  assert.equal(await alive('here'), true, 'a refused reset signs nobody out');
  assert.equal(await accounts.resetPassword('ALICE', NEW, stores.sessionIndex), 3);
  assert.equal(await verifyPassword(NEW, await hashOf('alice')), true);
  assert.deepEqual([await alive('here'), await alive('bobs')], [false, true]);
});
