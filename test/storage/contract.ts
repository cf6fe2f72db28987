/**
 * The storage contract: what every back-end must guarantee, as one suite that each
 * back-end's test file runs (sqlite.test.ts, …). `open()` opens the back-end again on the
 * same data, as a second process would, so every guarantee is checked across two handles.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { SessionData } from 'express-session';
import {
  ACTIVITY_KEEP_PER_ACCOUNT,
  ACTIVITY_MAX_AGE_MS,
  ATTACK_BUCKET_MS,
  DEVICE_TRUST_MS,
  FAILURE_MEMORY_MS,
  PasskeyTakenError,
  UsernameTakenError,
  type AttemptCount,
  type NewPasskey,
  type NewSecurityEvent,
  type SessionStore,
  type Stores,
} from '../../src/storage/ports.js';

export interface ContractBackEnd {
  /** Opens the back-end's stores on this test's data; closed when the test ends. */
  open(): Promise<Stores>;
}

/** A temporary folder (a data folder for openStores), deleted when the test ends. */
export function tempDir(t: TestContext, prefix = 'storage-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Calls an express-session store method and resolves with what its callback gets. */
export function call<T>(fn: (cb: (err: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(asError(err)) : resolve(value))));
}

function sessions(store: SessionStore) {
  return {
    get: (sid: string) => call<SessionData | null>((cb) => store.get(sid, cb)),
    set: (sid: string, data: SessionData) => call<void>((cb) => store.set(sid, data, cb)),
    touch: (sid: string, data: SessionData) => call<void>((cb) => store.touch?.(sid, data, cb as () => void)),
    destroy: (sid: string) => call<void>((cb) => store.destroy(sid, cb)),
  };
}

function record(expiresInMs: number, username?: string): SessionData {
  const now = Date.now();
  return {
    cookie: { expires: new Date(now + expiresInMs), originalMaxAge: expiresInMs },
    ...(username ? { user: { id: 1, username, signedInAt: now } } : {}),
  };
}

/** A passkey limit the tests that are not about it never reach. */
const LIMIT = 100;

const unique = (label: string) => `${label}-${Math.random().toString(36).slice(2)}`;

export function storageContract(name: string, setup: (t: TestContext) => Promise<ContractBackEnd>): void {
  const twoHandles = async (t: TestContext) => {
    const backEnd = await setup(t);
    return [await backEnd.open(), await backEnd.open()] as const;
  };

  test(`${name}: a challenge id is claimed once, by one of many concurrent claims over two handles`, async (t) => {
    const [a, b] = await twoHandles(t);
    const expiresAt = Date.now() + 60_000;
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).spentChallenges.claim('same-id', expiresAt)));
    assert.equal(claims.filter(Boolean).length, 1);
    assert.equal(await b.spentChallenges.claim('same-id', expiresAt), false, 'a later claim fails too');
    assert.equal(await a.spentChallenges.claim('other-id', expiresAt), true, 'other ids are free');
  });

  test(`${name}: attack signals are counted per bucket, atomically over two handles, and read by range`, async (t) => {
    const [a, b] = await twoHandles(t);
    const start = Math.floor(Date.now() / ATTACK_BUCKET_MS) * ATTACK_BUCKET_MS;
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).attackSignals.record(i % 4 !== 0, start + 1 + (i % 3))));
    await a.attackSignals.record(true, start + ATTACK_BUCKET_MS);
    await b.attackSignals.record(false, start + 3 * ATTACK_BUCKET_MS + 9_999);
    assert.deepEqual(await b.attackSignals.read(start, start + 5 * ATTACK_BUCKET_MS), [
      { start, attempts: 20, failures: 15 },
      { start: start + ATTACK_BUCKET_MS, attempts: 1, failures: 1 },
      { start: start + 3 * ATTACK_BUCKET_MS, attempts: 1, failures: 0 },
    ]);
    assert.deepEqual(
      await a.attackSignals.read(start + ATTACK_BUCKET_MS + 5, start + 2 * ATTACK_BUCKET_MS),
      [{ start: start + ATTACK_BUCKET_MS, attempts: 1, failures: 1 }],
      'from the bucket holding `since` to the one holding `now`',
    );
  });

  const rule = { after: 5, baseMs: 60_000, maxMs: 900_000 };
  const counted = (key: string, enforce = true) => ({ key, rule, enforce });
  /** Whether the attempt started (tryAttempt resolved what it counted). */
  const starts = async (stores: Stores, counts: AttemptCount[], now: number) => (await stores.failedLogins.tryAttempt(counts, now)) !== undefined;

  test(`${name}: of concurrent attempts over two handles, exactly as many as the rule allows start`, async (t) => {
    const [a, b] = await twoHandles(t);
    const now = Date.now();
    const network = counted('network:alice@192.0.2.0/24');
    const account = counted('account:alice');
    const started = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).failedLogins.tryAttempt([network, account], now)));
    assert.equal(started.filter((r) => r !== undefined).length, rule.after, 'the fifth failure locks; the rest are refused');
    assert.equal(await starts(a, [network, account], now + rule.baseMs - 1), false, 'locked for baseMs');
    assert.equal(await starts(b, [counted('network:bob@192.0.2.0/24')], now), true, 'other keys are not locked');
    assert.equal(await starts(b, [network, account], now + rule.baseMs), true, 'the lock ends, and the sixth failure counts');
    assert.equal(await starts(a, [network], now + 3 * rule.baseMs - 1), false, 'locked twice as long');
    assert.equal(await starts(a, [counted('account:alice', false)], now + rule.baseMs), true, 'an unenforced count does not refuse');
  });

  test(`${name}: a refused attempt counts nowhere, and one enforced lock refuses the whole attempt`, async (t) => {
    const [a, b] = await twoHandles(t);
    const now = Date.now();
    for (let i = 0; i < rule.after; i += 1) assert.equal(await starts(a, [counted('network:eve@x')], now), true);
    const other = counted('account:eve-other');
    for (let i = 0; i < 10; i += 1) assert.equal(await starts(b, [counted('network:eve@x'), other], now), false);
    for (let i = 0; i < rule.after - 1; i += 1) assert.equal(await starts(a, [other], now), true, 'the other count saw none of the refused ones');
    assert.equal(await starts(a, [other], now), true, 'its fifth failure starts');
    assert.equal(await starts(a, [other], now), false, 'and locks it');
  });

  test(`${name}: refund takes the failure back and restores the lock, unless a later failure moved it`, async (t) => {
    const [a, b] = await twoHandles(t);
    const now = Date.now();
    const account = counted('account:frank');
    for (let i = 1; i < rule.after; i += 1) await starts(a, [account], now);
    const fifth = await b.failedLogins.tryAttempt([account], now);
    assert.deepEqual(fifth, [{ key: account.key, lockBefore: 0, lockAfter: now + rule.baseMs }]);
    assert.equal(await starts(a, [account], now), false, 'locked at five');
    await a.failedLogins.refund(fifth[0]!);
    assert.equal(await starts(b, [account], now), true, 'four after the refund and no lock: this is the fifth');
    assert.equal(await starts(a, [account], now), false, 'five again');

    // A success from a network the lock spares, once the lock has ended, must not start a new one.
    const later = now + rule.baseMs;
    const spared = await a.failedLogins.tryAttempt([counted(account.key, false)], later);
    assert.ok(spared![0]!.lockAfter > later, 'the sixth failure counted in advance locks');
    await b.failedLogins.refund(spared![0]!);
    assert.equal(await starts(b, [account], later), true, 'refunded: the lock is the ended one again');

    const seventh = await a.failedLogins.tryAttempt([counted(account.key, false)], later);
    const eighth = await b.failedLogins.tryAttempt([counted(account.key, false)], later + 1_000);
    await a.failedLogins.refund(seventh![0]!);
    assert.equal(await starts(a, [account], eighth![0]!.lockAfter - 1), false, 'a later failure moved the lock: it stays');

    await a.failedLogins.clear(account.key);
    for (let i = 0; i < rule.after; i += 1) assert.equal(await starts(b, [account], now), true, 'cleared: five more');
    await a.failedLogins.refund({ key: 'account:nobody', lockBefore: 0, lockAfter: 0 });
    assert.equal(await starts(a, [counted('account:nobody')], now), true, 'a refund of nothing leaves nothing behind');
  });

  test(`${name}: a failure count untouched for FAILURE_MEMORY_MS is forgotten`, async (t) => {
    const [a, b] = await twoHandles(t);
    const now = Date.now();
    const longAgo = now - FAILURE_MEMORY_MS - 1_000;
    // A lock that would still run now, were the count not forgotten.
    const long = { key: 'account:carol', rule: { after: 1, baseMs: FAILURE_MEMORY_MS + 60_000, maxMs: FAILURE_MEMORY_MS + 60_000 }, enforce: true };
    assert.equal(await starts(a, [long], longAgo), true);
    assert.equal(await starts(b, [{ ...long, rule }], now), true, 'forgotten: no lock');
    for (let i = 1; i < rule.after; i += 1) assert.equal(await starts(b, [{ ...long, rule }], now), true, `failure ${i + 1} of a fresh count`);
    assert.equal(await starts(b, [{ ...long, rule }], now), false, 'the count started again at 1');
  });

  test(`${name}: a device is known for the accounts it was trusted for, until its expiry, over two handles`, async (t) => {
    const [a, b] = await twoHandles(t);
    const now = Date.now();
    const until = now + DEVICE_TRUST_MS;
    await a.deviceTokens.trust('token-1', 1, until, now);
    await b.deviceTokens.trust('token-1', 2, now + 60_000, now);
    assert.equal(await b.deviceTokens.knows('token-1', 1, now), true);
    assert.equal(await a.deviceTokens.knows('token-1', 2, now + 59_999), true, 'one browser, two accounts');
    assert.equal(await a.deviceTokens.knows('token-1', 2, now + 60_000), false, 'each pair expires on its own');
    assert.equal(await a.deviceTokens.knows('token-1', 1, until), false, 'expired');
    assert.equal(await a.deviceTokens.knows('token-1', 3, now), false, 'another account');
    assert.equal(await a.deviceTokens.knows('token-2', 1, now), false, 'another token');
    await b.deviceTokens.trust('token-1', 2, until, now + 1_000);
    assert.equal(await a.deviceTokens.knows('token-1', 2, now + 60_000), true, 'trusting again renews');
  });

  test(`${name}: a renewed token takes over the accounts of the previous one, which is then known for nothing`, async (t) => {
    const [a, b] = await twoHandles(t);
    const now = Date.now();
    await a.deviceTokens.trust('old', 1, now + DEVICE_TRUST_MS, now);
    await a.deviceTokens.trust('old', 2, now + 60_000, now);
    await a.deviceTokens.trust('old', 3, now + 1_000, now);
    await b.deviceTokens.trust('new', 4, now + DEVICE_TRUST_MS, now + 2_000, 'old');
    for (const account of [1, 2, 4]) assert.equal(await a.deviceTokens.knows('new', account, now + 2_000), true, `account ${account}`);
    assert.equal(await a.deviceTokens.knows('new', 3, now), false, 'a pair expired before the move stays gone');
    assert.equal(await a.deviceTokens.knows('new', 2, now + 60_000), false, 'moved pairs keep their expiry');
    for (const account of [1, 2, 3, 4]) assert.equal(await b.deviceTokens.knows('old', account, now + 2_000), false, `old token, account ${account}`);
    await b.deviceTokens.trust('newer', 1, now + DEVICE_TRUST_MS, now + 3_000, 'never-stored');
    assert.equal(await a.deviceTokens.knows('newer', 1, now + 3_000), true, 'a previous token the store never had moves nothing');
  });

  test(`${name}: a device is revoked for one account, or all of an account's devices at once`, async (t) => {
    const [a, b] = await twoHandles(t);
    const now = Date.now();
    const until = now + DEVICE_TRUST_MS;
    for (const token of ['phone', 'laptop']) for (const account of [1, 2]) await a.deviceTokens.trust(token, account, until, now);
    await b.deviceTokens.revoke('phone', 1);
    assert.equal(await a.deviceTokens.knows('phone', 1, now), false);
    assert.equal(await a.deviceTokens.knows('phone', 2, now), true, "the device's other account keeps it");
    assert.equal(await a.deviceTokens.knows('laptop', 1, now), true, "the account's other device stays");
    await a.deviceTokens.revokeAll(2, now + 1_000);
    for (const token of ['phone', 'laptop']) assert.equal(await b.deviceTokens.knows(token, 2, now + 1_000), false, `${token} of account 2`);
    assert.equal(await b.deviceTokens.knows('laptop', 1, now + 1_000), true, "another account's devices stay");
    await b.deviceTokens.trust('laptop', 2, until, now + 2_000);
    assert.equal(await a.deviceTokens.knows('laptop', 2, now + 2_000), true, 'a sign-in after revokeAll trusts again');
    await a.deviceTokens.trust('tablet', 3, until, now + 2_000, 'phone');
    assert.equal(await b.deviceTokens.knows('tablet', 2, now + 2_000), false, 'renewing a token does not bring a revoked pair back');
    assert.equal(await b.deviceTokens.knows('tablet', 3, now + 2_000), true);
  });

  test(`${name}: sessions round-trip, are replaced and touched, and expire`, async (t) => {
    const [a, b] = await twoHandles(t);
    const [sa, sb] = [sessions(a.sessionStore), sessions(b.sessionStore)];
    const sid = unique('sid');
    await sa.set(sid, record(60_000, 'alice'));
    assert.equal((await sb.get(sid))?.user?.username, 'alice', 'the other handle reads it');
    await sb.set(sid, record(60_000, 'bob'));
    assert.equal((await sa.get(sid))?.user?.username, 'bob', 'set replaces');
    await sa.touch(sid, record(120_000, 'bob'));
    assert.equal((await sb.get(sid))?.user?.username, 'bob', 'touch keeps the data');
    assert.equal(await sb.get(unique('missing')), null);
    const expired = unique('expired');
    await sa.set(expired, record(-1_000, 'carol'));
    assert.equal(await sb.get(expired), null, 'a session whose cookie expired is not returned');
  });

  test(`${name}: a destroyed session stays destroyed: a late set or touch over either handle writes nothing`, async (t) => {
    const [a, b] = await twoHandles(t);
    const [sa, sb] = [sessions(a.sessionStore), sessions(b.sessionStore)];
    const sid = unique('sid');
    await sa.set(sid, record(60_000, 'alice'));
    await sb.destroy(sid);
    assert.equal(await sa.get(sid), null);
    await Promise.all([sa.set(sid, record(60_000, 'alice')), sb.set(sid, record(60_000, 'alice'))]);
    await sa.touch(sid, record(60_000, 'alice'));
    assert.equal(await sb.get(sid), null, 'a request that loaded the session before destroy() cannot bring it back');
    const other = unique('other');
    await sb.set(other, record(60_000, 'bob'));
    assert.equal((await sa.get(other))?.user?.username, 'bob', 'other sessions are written as usual');
  });

  /** A signed-in session record of account `userId`, expiring `expiresInMs` from `now`. */
  const signedIn = (userId: number, now: number, expiresInMs: number): SessionData => ({
    cookie: { expires: new Date(now + expiresInMs), originalMaxAge: expiresInMs },
    user: { id: userId, username: `user-${userId}`, signedInAt: now },
    client: { browser: 'Firefox', os: 'Linux', network: '192.0.2.0/24' },
  });
  const sidsOf = async (stores: Stores, userId: number, now: number) => (await stores.sessionIndex.listFor(userId, now)).map((each) => each.sid).sort();

  test(`${name}: each account's sessions are indexed exactly under sign-in, sign-out, touch and expiry, over two handles`, async (t) => {
    const [a, b] = await twoHandles(t);
    const [sa, sb] = [sessions(a.sessionStore), sessions(b.sessionStore)];
    const now = Date.now();
    const [one, two, three, bobs, anonymous] = ['1', '2', '3', 'bob', 'anon'].map((label) => unique(`sid-${label}`)) as [string, string, string, string, string];
    await sa.set(one, signedIn(1, now, 60_000));
    await sb.set(two, signedIn(1, now, 120_000));
    await sa.set(three, signedIn(1, now, 180_000));
    await sb.set(bobs, signedIn(2, now, 60_000));
    await sa.set(anonymous, record(60_000));
    assert.deepEqual(await sidsOf(b, 1, now), [one, two, three].sort(), "the account's own, over the other handle");
    assert.deepEqual(await sidsOf(a, 2, now), [bobs]);
    assert.deepEqual(await sidsOf(a, 3, now), [], 'an account without sessions');
    const [listed] = (await a.sessionIndex.listFor(1, now)).filter((each) => each.sid === one);
    assert.deepEqual(listed?.data.client, { browser: 'Firefox', os: 'Linux', network: '192.0.2.0/24' }, 'the record comes with it');
    assert.equal(listed?.expiresAt, now + 60_000);

    await sb.destroy(one);
    assert.deepEqual(await sidsOf(a, 1, now), [two, three].sort(), 'sign-out leaves the index');
    await sa.set(one, signedIn(1, now, 60_000));
    assert.deepEqual(await sidsOf(b, 1, now), [two, three].sort(), 'a late write of a destroyed session is not indexed again');

    assert.deepEqual(await sidsOf(a, 1, now + 120_000), [three], 'expired sessions are not listed');
    await sb.touch(two, signedIn(1, now, 240_000));
    assert.deepEqual(await sidsOf(a, 1, now + 200_000), [two], 'a touch moves the expiry the index knows');
    await sa.set(three, signedIn(1, now, -1_000));
    assert.equal(await sb.get(three), null);
    assert.deepEqual(await sidsOf(b, 1, now), [two], 'a write with an expired cookie leaves the index');
    await a.prune();
    assert.deepEqual(await sidsOf(b, 1, now), [two], 'pruning leaves the live ones');
  });

  test(`${name}: a session is destroyed through the index only by its own account`, async (t) => {
    const [a, b] = await twoHandles(t);
    const [sa, sb] = [sessions(a.sessionStore), sessions(b.sessionStore)];
    const now = Date.now();
    const alices = unique('sid-alice');
    await sa.set(alices, signedIn(1, now, 60_000));
    assert.equal(await b.sessionIndex.destroyFor(2, alices), false, "another account's session");
    assert.equal((await sb.get(alices))?.user?.id, 1, 'nothing changed');
    assert.deepEqual(await sidsOf(a, 1, now), [alices]);
    assert.equal(await b.sessionIndex.destroyFor(1, unique('never-stored')), false);
    const anonymous = unique('sid-anon');
    await sa.set(anonymous, record(60_000));
    assert.equal(await a.sessionIndex.destroyFor(1, anonymous), false, 'an anonymous session');
    assert.notEqual(await sb.get(anonymous), null);

    assert.equal(await b.sessionIndex.destroyFor(1, alices), true);
    assert.equal(await sa.get(alices), null);
    assert.deepEqual(await sidsOf(a, 1, now), []);
    await Promise.all([sa.set(alices, signedIn(1, now, 60_000)), sb.touch(alices, signedIn(1, now, 60_000))]);
    assert.equal(await sb.get(alices), null, 'it leaves a tombstone: a request still running cannot write it back');
    assert.equal(await a.sessionIndex.destroyFor(1, alices), false, 'destroyed once');
  });

  test(`${name}: all of an account's sessions but one are destroyed at once, with their tombstones`, async (t) => {
    const [a, b] = await twoHandles(t);
    const [sa, sb] = [sessions(a.sessionStore), sessions(b.sessionStore)];
    const now = Date.now();
    const alices = Array.from({ length: 4 }, (_, i) => unique(`sid-alice-${i}`));
    const [kept = '', ...others] = alices;
    for (const sid of alices) await sa.set(sid, signedIn(1, now, 60_000));
    const bobs = unique('sid-bob');
    await sb.set(bobs, signedIn(2, now, 60_000));

    assert.equal(await b.sessionIndex.destroyAllFor(1, kept), 3);
    assert.deepEqual(await sidsOf(a, 1, now), [kept]);
    assert.notEqual(await sb.get(kept), null, 'the kept one lives');
    for (const sid of others) {
      await sa.set(sid, signedIn(1, now, 60_000));
      assert.equal(await sb.get(sid), null, 'a late write of a destroyed one writes nothing');
    }
    assert.deepEqual(await sidsOf(b, 2, now), [bobs], "another account's sessions stay");
    assert.notEqual(await sa.get(bobs), null);

    assert.equal(await a.sessionIndex.destroyAllFor(1), 1, 'without an exception: every one');
    assert.equal(await sb.get(kept), null);
    assert.equal(await b.sessionIndex.destroyAllFor(1), 0, 'nothing left');
    assert.deepEqual(await sidsOf(a, 1, now), []);
  });

  test(`${name}: an account's password hash is replaced, and only that account's`, async (t) => {
    const [a, b] = await twoHandles(t);
    const ivan = await a.users.create('ivan', 'hash-1');
    await a.users.create('judy', 'hash-1');
    assert.equal(await b.users.setPasswordHash(ivan.id, 'hash-2'), true);
    assert.equal((await a.users.findByUsername('IVAN'))?.passwordHash, 'hash-2', 'read over the other handle');
    assert.equal((await a.users.findByUsername('judy'))?.passwordHash, 'hash-1');
    assert.equal(await a.users.setPasswordHash(ivan.id + 1_000, 'hash-3'), false, 'no such account');
  });

  test(`${name}: usernames are unique without regard to case, also for concurrent creates`, async (t) => {
    const [a, b] = await twoHandles(t);
    const created = await a.users.create('Alice', 'hash-1');
    assert.equal((await b.users.findByUsername('aLiCe'))?.id, created.id);
    assert.equal((await b.users.findByUsername('alice'))?.passwordHash, 'hash-1');
    assert.equal(await b.users.findByUsername('alicia'), undefined);
    await assert.rejects(b.users.create('ALICE', 'hash-2'), UsernameTakenError);
    const race = await Promise.allSettled(['Bob', 'bob', 'BOB', 'boB'].map((username, i) => (i % 2 ? a : b).users.create(username, 'hash')));
    assert.equal(race.filter((result) => result.status === 'fulfilled').length, 1, 'one create wins');
    for (const result of race) if (result.status === 'rejected') assert.ok(result.reason instanceof UsernameTakenError);
  });

  test(`${name}: an account keeps the hash of its sign-up key (none without), read over either handle; pruning leaves it within SIGNUP_KEY_MS`, async (t) => {
    const [a, b] = await twoHandles(t);
    const keyHash = 'ab'.repeat(32);
    const made = await a.users.create('Grace', 'hash', keyHash);
    assert.equal(made.signupKeyHash, keyHash);
    assert.deepEqual(await b.users.findByUsername('grace'), made);
    assert.equal((await b.users.create('heidi', 'hash')).signupKeyHash, undefined);
    assert.equal((await a.users.findByUsername('heidi'))?.signupKeyHash, undefined);
    await a.prune();
    assert.equal((await b.users.findByUsername('grace'))?.signupKeyHash, keyHash, 'still within the window');
  });

  test(`${name}: an issued WebAuthn challenge is taken once, by one of many concurrent takes over two handles`, async (t) => {
    const [a, b] = await twoHandles(t);
    const challenge = unique('challenge');
    const record = { purpose: 'add-passkey' as const, userId: 7, expiresAt: Date.now() + 60_000 };
    await a.webauthnChallenges.put(challenge, record);
    const takes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).webauthnChallenges.take(challenge)));
    assert.deepEqual(
      takes.filter((taken) => taken !== undefined),
      [record],
      'one take gets what it was issued for',
    );
    assert.equal(await b.webauthnChallenges.take(challenge), undefined, 'a later take gets nothing');
    assert.equal(await a.webauthnChallenges.take(unique('never-issued')), undefined);
    const signIn = unique('challenge');
    await b.webauthnChallenges.put(signIn, { purpose: 'sign-in', userId: undefined, expiresAt: record.expiresAt });
    assert.deepEqual(await a.webauthnChallenges.take(signIn), { purpose: 'sign-in', userId: undefined, expiresAt: record.expiresAt });
  });

  test(`${name}: passkeys are kept with their account, unique by credential id, and removed by their owner only`, async (t) => {
    const [a, b] = await twoHandles(t);
    const alice = await a.users.create('alice', 'hash');
    const bob = await a.users.create('bob', 'hash');
    const passkey = (id: string, userId: number, createdAt: number): NewPasskey => ({
      id,
      userId,
      publicKey: new Uint8Array([1, 2, 3, 255]),
      counter: 0,
      transports: ['hybrid', 'internal'],
      name: `key ${id}`,
      createdAt,
    });
    await a.passkeys.add(passkey('cred-2', alice.id, 2_000), LIMIT);
    await b.passkeys.add(passkey('cred-1', alice.id, 1_000), LIMIT);
    await a.passkeys.add(passkey('cred-3', bob.id, 3_000), LIMIT);
    assert.deepEqual(await b.passkeys.find('cred-2'), { ...passkey('cred-2', alice.id, 2_000), lastUsedAt: undefined, username: 'alice' });
    assert.equal(await a.passkeys.find('cred-9'), undefined);
    assert.deepEqual(
      (await b.passkeys.listFor(alice.id)).map((key) => key.id),
      ['cred-1', 'cred-2'],
      "the account's own, oldest first",
    );
    const race = await Promise.allSettled([a, b].map((handle) => handle.passkeys.add(passkey('cred-4', bob.id, 4_000), LIMIT)));
    assert.equal(race.filter((result) => result.status === 'fulfilled').length, 1, 'a credential id is stored once');
    await assert.rejects(a.passkeys.add(passkey('cred-1', bob.id, 5_000), LIMIT), PasskeyTakenError, 'also for another account');

    assert.equal(await a.passkeys.remove(bob.id, 'cred-1'), false, "bob cannot remove alice's passkey");
    assert.equal(await b.passkeys.remove(alice.id, 'cred-1'), true);
    assert.equal(await a.passkeys.remove(alice.id, 'cred-1'), false, 'removed once');
    assert.equal(await a.passkeys.find('cred-1'), undefined);
    assert.deepEqual((await a.passkeys.listFor(alice.id)).map((key) => key.id), ['cred-2']);
  });

  test(`${name}: an account's passkey limit holds under concurrent adds over two handles`, async (t) => {
    const [a, b] = await twoHandles(t);
    const dave = await a.users.create('dave', 'hash');
    const erin = await a.users.create('erin', 'hash');
    const add = (handle: Stores, id: string, userId: number) =>
      handle.passkeys.add({ id, userId, publicKey: new Uint8Array([7]), counter: 0, transports: [], name: id, createdAt: 1 }, 10);
    await add(a, 'erin-1', erin.id);
    const added = await Promise.all(Array.from({ length: 12 }, (_, i) => add(i % 2 ? a : b, `dave-${i}`, dave.id)));
    assert.equal(added.filter(Boolean).length, 10, 'exactly the limit is added');
    assert.equal((await b.passkeys.listFor(dave.id)).length, 10);
    assert.equal(await add(b, 'dave-12', dave.id), false, 'and no more later');
    assert.equal(await add(a, 'erin-2', erin.id), true, "another account's count is its own");
    const [oldest] = await a.passkeys.listFor(dave.id);
    assert.equal(await b.passkeys.remove(dave.id, oldest?.id ?? ''), true);
    assert.equal(await add(b, 'dave-12', dave.id), true, 'room again after a removal');
  });

  test(`${name}: a passkey's counter only moves forward: of concurrent uses reporting one counter, one is recorded`, async (t) => {
    const [a, b] = await twoHandles(t);
    const carol = await a.users.create('carol', 'hash');
    const add = (id: string, counter: number) =>
      a.passkeys.add({ id, userId: carol.id, publicKey: new Uint8Array([9]), counter, transports: [], name: id, createdAt: 1 }, LIMIT);
    await add('counting', 5);
    const uses = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).passkeys.recordUse('counting', 6, 1_000 + i)));
    assert.equal(uses.filter(Boolean).length, 1);
    const used = await b.passkeys.find('counting');
    assert.equal(used?.counter, 6);
    assert.ok(used?.lastUsedAt !== undefined && used.lastUsedAt >= 1_000, 'the time of use is kept');
    assert.equal(await a.passkeys.recordUse('counting', 4, 2_000), false, 'a counter that went back is refused');
    assert.equal(await a.passkeys.recordUse('counting', 0, 2_000), false, 'and so is 0 once it counted');
    assert.equal((await b.passkeys.find('counting'))?.counter, 6, 'nothing written');
    assert.equal(await b.passkeys.recordUse('counting', 7, 3_000), true);

    await add('not-counting', 0);
    assert.equal(await a.passkeys.recordUse('not-counting', 0, 4_000), true, 'an authenticator without a counter');
    assert.equal(await b.passkeys.recordUse('not-counting', 0, 5_000), true, 'passes every time');
    assert.equal((await a.passkeys.find('not-counting'))?.lastUsedAt, 5_000);
    assert.equal(await a.passkeys.recordUse('no-such-passkey', 1, 1), false);
  });

  test(`${name}: of concurrent TOTP enrolments of one account over two handles, one ends enabled, with its own recovery codes`, async (t) => {
    const [a, b] = await twoHandles(t);
    const ivan = await a.users.create('ivan', 'hash');
    const codesOf = (i: number) => Array.from({ length: 10 }, (_, j) => `hash-${i}-${j}`);
    const enabled = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).totp.enable(ivan.id, `SECRET${i}`, codesOf(i), 1_000 + i)));
    assert.equal(enabled.filter(Boolean).length, 1, 'one enrolment wins');
    const winner = enabled.indexOf(true);
    assert.deepEqual(await b.totp.find(ivan.id), { userId: ivan.id, secret: `SECRET${winner}`, enabledAt: 1_000 + winner, recoveryCodesLeft: 10 });
    const loser = (winner + 1) % 8;
    assert.equal(await a.totp.useRecoveryCode(ivan.id, codesOf(loser)[0]!), false, "a losing enrolment's codes were not written");
    assert.equal(await b.totp.enable(ivan.id, 'LATER', codesOf(99), 9_000), false, 'nor is a later one while enabled');
    assert.equal((await a.totp.find(ivan.id))?.secret, `SECRET${winner}`);
    assert.equal(await a.totp.find((await a.users.create('judy', 'hash')).id), undefined, 'an account without TOTP');
  });

  test(`${name}: a recovery code is good once, for its own account, even under concurrent uses over two handles`, async (t) => {
    const [a, b] = await twoHandles(t);
    const kim = await a.users.create('kim', 'hash');
    const leo = await a.users.create('leo', 'hash');
    await a.totp.enable(kim.id, 'KIMSECRET', ['k1', 'k2', 'k3'], 1);
    await b.totp.enable(leo.id, 'LEOSECRET', ['l1'], 1);
    const uses = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).totp.useRecoveryCode(kim.id, 'k2')));
    assert.equal(uses.filter(Boolean).length, 1, 'one use gets it');
    assert.equal(await a.totp.useRecoveryCode(kim.id, 'k2'), false, 'a later use gets nothing');
    assert.equal((await b.totp.find(kim.id))?.recoveryCodesLeft, 2);
    assert.equal(await b.totp.useRecoveryCode(kim.id, 'l1'), false, "another account's code");
    assert.equal(await a.totp.useRecoveryCode(leo.id, 'l1'), true, 'is still its own');
  });

  test(`${name}: recovery codes are replaced all at once, only while TOTP is enabled; disabling removes the secret and every code`, async (t) => {
    const [a, b] = await twoHandles(t);
    const mia = await a.users.create('mia', 'hash');
    assert.equal(await a.totp.replaceRecoveryCodes(mia.id, ['n1']), false, 'not enabled: nothing to replace');
    assert.equal(await b.totp.useRecoveryCode(mia.id, 'n1'), false, 'and nothing written');
    await a.totp.enable(mia.id, 'MIASECRET', ['o1', 'o2'], 1);
    assert.equal(await b.totp.replaceRecoveryCodes(mia.id, ['n1', 'n2', 'n3']), true);
    assert.equal(await a.totp.useRecoveryCode(mia.id, 'o1'), false, 'the old codes are gone');
    assert.equal(await a.totp.useRecoveryCode(mia.id, 'n3'), true, 'the new ones work');
    assert.equal((await b.totp.find(mia.id))?.recoveryCodesLeft, 2);
    assert.equal(await b.totp.disable(mia.id), true);
    assert.equal(await a.totp.disable(mia.id), false, 'disabled once');
    assert.equal(await a.totp.find(mia.id), undefined);
    assert.equal(await b.totp.useRecoveryCode(mia.id, 'n1'), false, 'its codes went with it');
    assert.equal(await a.totp.replaceRecoveryCodes(mia.id, ['p1']), false, 'a regeneration after disabling writes nothing');
    assert.equal(await b.totp.enable(mia.id, 'AGAIN', ['q1'], 2), true, 'enrolling again starts afresh');
    assert.deepEqual(await a.totp.find(mia.id), { userId: mia.id, secret: 'AGAIN', enabledAt: 2, recoveryCodesLeft: 1 });
    assert.equal(await a.totp.useRecoveryCode(mia.id, 'n1'), false, 'no code of the earlier enrolment came back');
  });

  test(`${name}: clearPrefixed forgets every count under the prefix, and no other`, async (t) => {
    const [a, b] = await twoHandles(t);
    const now = Date.now();
    const keys = ['network:id:1@192.0.2.0/24', 'network:id:1@198.51.100.0/24', 'network:id:12@192.0.2.0/24', 'network:id:1', 'account:id:1'];
    for (const key of keys) for (let i = 0; i < rule.after; i += 1) await starts(a, [counted(key)], now);
    for (const key of keys) assert.equal(await starts(b, [counted(key)], now), false, `${key} is locked`);
    await b.failedLogins.clearPrefixed('network:id:1@');
    assert.equal(await starts(a, [counted(keys[0]!)], now), true, 'cleared');
    assert.equal(await starts(a, [counted(keys[1]!)], now), true, 'cleared');
    for (const key of keys.slice(2)) assert.equal(await starts(a, [counted(key)], now), false, `${key} stays locked`);
  });

  /** The event of `userId` of `kind` at `at`; from a client's network for the stranger kinds. */
  const event = (userId: number, kind: NewSecurityEvent['kind'], at: number, detail?: string): NewSecurityEvent => ({
    userId,
    kind,
    at,
    network: kind === 'sign_in_failed' ? '192.0.2.0/24' : undefined,
    detail,
  });
  const pruneAll = async (stores: Stores) => {
    while ((await stores.prune()) > 0);
  };

  test(`${name}: security events are kept per account, newest first, over two handles, and go with their account (its passkeys and TOTP too)`, async (t) => {
    const [a, b] = await twoHandles(t);
    const alice = await a.users.create('alice', 'hash');
    const bob = await a.users.create('bob', 'hash');
    const now = Date.now();
    await a.activity.record(event(alice.id, 'sign_in', now - 2_000, 'password'));
    await b.activity.record(event(alice.id, 'sign_in_failed', now - 1_000, 'password'));
    await a.activity.record(event(alice.id, 'passkey_added', now - 1_000, 'Laptop'));
    await b.activity.record(event(bob.id, 'account_locked', now));
    const latest = await b.activity.latest(alice.id, 20);
    assert.deepEqual(
      latest.map(({ id: _id, ...rest }) => rest),
      [event(alice.id, 'passkey_added', now - 1_000, 'Laptop'), event(alice.id, 'sign_in_failed', now - 1_000, 'password'), event(alice.id, 'sign_in', now - 2_000, 'password')],
      "the account's own, newest first; of two at one time, the later recorded first",
    );
    assert.deepEqual((await a.activity.latest(alice.id, 2)).map((e) => e.kind), ['passkey_added', 'sign_in_failed'], 'at most `limit`');
    await assert.rejects(a.activity.record(event(alice.id + bob.id + 1_000, 'sign_in', now)), 'an event of no account is refused');

    await a.passkeys.add({ id: 'alice-key', userId: alice.id, publicKey: new Uint8Array([1]), counter: 0, transports: [], name: 'Laptop', createdAt: 1 }, LIMIT);
    await b.totp.enable(alice.id, 'SECRET', ['code'], 1);
    assert.equal(await b.users.delete(alice.id), true);
    assert.equal(await a.users.delete(alice.id), false, 'deleted once');
    assert.deepEqual(await a.activity.latest(alice.id, 20), [], 'its events went with it');
    assert.equal(await b.passkeys.find('alice-key'), undefined, 'and its passkeys');
    assert.equal(await a.totp.find(alice.id), undefined, 'and its TOTP factor');
    assert.equal(await a.totp.useRecoveryCode(alice.id, 'code'), false, 'with its recovery codes');
    assert.equal((await a.activity.latest(bob.id, 20)).length, 1, "another account's stay");
    await pruneAll(a);
  });

  test(`${name}: pruning forgets events past ACTIVITY_MAX_AGE_MS, and keeps each account's newest of each sort`, async (t) => {
    const [a, b] = await twoHandles(t);
    const carol = await a.users.create('carol', 'hash');
    const dave = await a.users.create('dave', 'hash');
    const now = Date.now();
    await a.activity.record(event(dave.id, 'sign_in', now - ACTIVITY_MAX_AGE_MS - 1_000));
    await a.activity.record(event(dave.id, 'sign_in', now - ACTIVITY_MAX_AGE_MS + 60_000));
    // More than the limit of each sort: failed guesses (anyone's) and carol's own events, interleaved.
    const extra = 5;
    for (let i = 0; i < ACTIVITY_KEEP_PER_ACCOUNT + extra; i += 1) {
      await (i % 2 ? a : b).activity.record(event(carol.id, 'sign_in_failed', now - 10_000 + 2 * i));
      await (i % 2 ? b : a).activity.record(event(carol.id, i % 3 ? 'sign_in' : 'passkey_removed', now - 10_000 + 2 * i + 1));
    }
    await pruneAll(b);
    const kept = await a.activity.latest(carol.id, 1_000);
    const failed = kept.filter((e) => e.kind === 'sign_in_failed');
    const own = kept.filter((e) => e.kind !== 'sign_in_failed');
    assert.equal(failed.length, ACTIVITY_KEEP_PER_ACCOUNT, 'failed guesses are trimmed to the limit');
    assert.equal(own.length, ACTIVITY_KEEP_PER_ACCOUNT, 'so are the rest, apart: the guesses did not push them out');
    assert.equal(Math.min(...failed.map((e) => e.at)), now - 10_000 + 2 * extra, 'the newest are kept');
    assert.equal(Math.min(...own.map((e) => e.at)), now - 10_000 + 2 * extra + 1, 'the newest are kept');
    assert.deepEqual(
      (await b.activity.latest(dave.id, 20)).map((e) => e.at),
      [now - ACTIVITY_MAX_AGE_MS + 60_000],
      'the one past ACTIVITY_MAX_AGE_MS went; the younger one stays',
    );
    assert.equal(await a.prune(), 0, 'nothing left to prune');
    await a.activity.record(event(carol.id, 'sign_in', now));
    await pruneAll(a);
    assert.deepEqual((await b.activity.latest(carol.id, 1))[0]?.at, now, 'a later event trims the account again');
    assert.equal((await b.activity.latest(carol.id, 1_000)).length, 2 * ACTIVITY_KEEP_PER_ACCOUNT);
  });

  test(`${name}: an account is found by id, locked and unlocked, and listed page by page with its TOTP and passkey count`, async (t) => {
    const [a, b] = await twoHandles(t);
    const erin = await a.users.create('erin', 'hash');
    const frank = await b.users.create('Frank', 'hash');
    const grace = await a.users.create('grace', 'hash');
    await b.totp.enable(erin.id, 'SECRET', ['code'], 1);
    assert.deepEqual(await b.users.findById(erin.id), erin);
    assert.equal(await b.users.findById(grace.id + 1_000), undefined);
    assert.equal(await b.users.setDisabled(frank.id, 1_234), true);
    assert.equal((await a.users.findById(frank.id))?.disabledAt, 1_234);
    assert.equal((await a.users.findByUsername('frank'))?.disabledAt, 1_234, 'also when found by name');
    assert.equal(await b.users.setDisabled(grace.id + 1_000, 1), false, 'no such account');
    for (const id of ['f1', 'f2']) {
      await a.passkeys.add({ id, userId: frank.id, publicKey: new Uint8Array([1]), counter: 0, transports: [], name: id, createdAt: 1 }, LIMIT);
    }
    const first = await b.users.list(0, 2);
    assert.deepEqual(first, [
      { id: erin.id, username: 'erin', createdAt: erin.createdAt, disabledAt: undefined, totp: true, passkeys: 0 },
      { id: frank.id, username: 'Frank', createdAt: frank.createdAt, disabledAt: 1_234, totp: false, passkeys: 2 },
    ]);
    assert.deepEqual((await a.users.list(frank.id, 2)).map((account) => account.username), ['grace'], 'the next page');
    assert.deepEqual(await a.users.list(grace.id, 2), [], 'and no more');
    assert.equal(await a.users.setDisabled(frank.id, undefined), true);
    assert.equal((await b.users.findById(frank.id))?.disabledAt, undefined, 'unlocked');
  });

  test(`${name}: a deleted account's id is never given to a new account, even the highest one`, async (t) => {
    const [a, b] = await twoHandles(t);
    await a.users.create('heidi', 'hash');
    const ivan = await b.users.create('ivan', 'hash');
    assert.equal(await a.users.delete(ivan.id), true);
    const judy = await b.users.create('judy', 'hash');
    assert.ok(judy.id > ivan.id, `judy got ${judy.id}, ivan had ${ivan.id}`);
    assert.equal(await a.users.delete(judy.id), true);
    const ivanAgain = await a.users.create('ivan', 'hash');
    assert.ok(ivanAgain.id > judy.id, 'a new account of a deleted name is a new id too');
  });
}
