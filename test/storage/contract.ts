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
import { FAILURE_MEMORY_MS, PasskeyTakenError, UsernameTakenError, type NewPasskey, type SessionStore, type Stores } from '../../src/storage/ports.js';

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

  test(`${name}: failures count atomically: concurrent failures over two handles see 1…n once each`, async (t) => {
    const [a, b] = await twoHandles(t);
    const seen: number[] = [];
    const now = Date.now();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? a : b).failedLogins.addFailure('network:alice@192.0.2.0/24', now, (failures) => {
          seen.push(failures);
          return failures >= 30 ? 5_000 : 0;
        }),
      ),
    );
    assert.deepEqual(seen.sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => i + 1));
    assert.equal(await b.failedLogins.lockedUntil('network:alice@192.0.2.0/24', now), now + 5_000, 'the lock asked for is kept');
    assert.equal(await a.failedLogins.lockedUntil('network:bob@192.0.2.0/24', now), 0, 'other keys are not locked');
    await a.failedLogins.clear('network:alice@192.0.2.0/24');
    assert.equal(await b.failedLogins.lockedUntil('network:alice@192.0.2.0/24', now), 0, 'clear() ends the lock');
    let after = 0;
    await b.failedLogins.addFailure('network:alice@192.0.2.0/24', now, (failures) => ((after = failures), 0));
    assert.equal(after, 1, 'and the count starts again');
  });

  test(`${name}: a failure count untouched for FAILURE_MEMORY_MS is forgotten`, async (t) => {
    const [a, b] = await twoHandles(t);
    const now = Date.now();
    const longAgo = now - FAILURE_MEMORY_MS - 1_000;
    // A lock that would still run now, were the count not forgotten.
    for (let i = 0; i < 3; i += 1) await a.failedLogins.addFailure('account:carol', longAgo, () => FAILURE_MEMORY_MS + 60_000);
    assert.equal(await b.failedLogins.lockedUntil('account:carol', now), 0);
    let count = 0;
    await b.failedLogins.addFailure('account:carol', now, (failures) => ((count = failures), 0));
    assert.equal(count, 1);
  });

  test(`${name}: sign-in networks are remembered with their time`, async (t) => {
    const [a, b] = await twoHandles(t);
    const now = Date.now();
    await a.failedLogins.rememberNetwork('dave', '192.0.2.0/24', now);
    assert.equal(await b.failedLogins.knowsNetwork('dave', '192.0.2.0/24', now - 1_000), true);
    assert.equal(await b.failedLogins.knowsNetwork('dave', '192.0.2.0/24', now + 1), false, 'not since a later time');
    assert.equal(await b.failedLogins.knowsNetwork('dave', '198.51.100.0/24', 0), false, 'another network');
    assert.equal(await b.failedLogins.knowsNetwork('erin', '192.0.2.0/24', 0), false, 'another account');
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
    await a.passkeys.add(passkey('cred-2', alice.id, 2_000));
    await b.passkeys.add(passkey('cred-1', alice.id, 1_000));
    await a.passkeys.add(passkey('cred-3', bob.id, 3_000));
    assert.deepEqual(await b.passkeys.find('cred-2'), { ...passkey('cred-2', alice.id, 2_000), lastUsedAt: undefined, username: 'alice' });
    assert.equal(await a.passkeys.find('cred-9'), undefined);
    assert.deepEqual(
      (await b.passkeys.listFor(alice.id)).map((key) => key.id),
      ['cred-1', 'cred-2'],
      "the account's own, oldest first",
    );
    const race = await Promise.allSettled([a, b].map((handle) => handle.passkeys.add(passkey('cred-4', bob.id, 4_000))));
    assert.equal(race.filter((result) => result.status === 'fulfilled').length, 1, 'a credential id is stored once');
    await assert.rejects(a.passkeys.add(passkey('cred-1', bob.id, 5_000)), PasskeyTakenError, 'also for another account');

    assert.equal(await a.passkeys.remove(bob.id, 'cred-1'), false, "bob cannot remove alice's passkey");
    assert.equal(await b.passkeys.remove(alice.id, 'cred-1'), true);
    assert.equal(await a.passkeys.remove(alice.id, 'cred-1'), false, 'removed once');
    assert.equal(await a.passkeys.find('cred-1'), undefined);
    assert.deepEqual((await a.passkeys.listFor(alice.id)).map((key) => key.id), ['cred-2']);
  });

  test(`${name}: a passkey's counter only moves forward: of concurrent uses reporting one counter, one is recorded`, async (t) => {
    const [a, b] = await twoHandles(t);
    const carol = await a.users.create('carol', 'hash');
    const add = (id: string, counter: number) =>
      a.passkeys.add({ id, userId: carol.id, publicKey: new Uint8Array([9]), counter, transports: [], name: id, createdAt: 1 });
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
}
