import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { SessionData } from 'express-session';
import { CurrentSessionError, SESSION_HANDLE_PATTERN, SessionNotFoundError, createAccountSessions, handleOf } from '../../src/account/sessions.js';
import { SESSION_TIMEOUT_DEFAULTS } from '../../src/session/timeouts.js';
import { openStores } from '../../src/storage/index.js';
import { call, tempDir } from '../storage/contract.js';

const { idleMs, absoluteMs } = SESSION_TIMEOUT_DEFAULTS;

async function setup(t: TestContext) {
  const stores = await openStores({ dataDir: tempDir(t, 'account-sessions-'), pruneIntervalMs: 0 });
  t.after(() => stores.close());
  const now = Date.now();
  /** Stores a session of `userId` signed in at `signedInAt` and last seen at `lastSeenAt`, as the app writes it. */
  const put = async (sid: string, userId: number, signedInAt: number, lastSeenAt = signedInAt, client: SessionData['client'] = { network: '192.0.2.0/24' }) => {
    const record: SessionData = {
      cookie: { expires: new Date(lastSeenAt + idleMs), originalMaxAge: idleMs },
      user: { id: userId, username: `user-${userId}`, signedInAt },
      lastSeenAt,
      client,
    };
    await call((cb) => stores.sessionStore.set(sid, record, cb));
  };
  const get = (sid: string) => call<SessionData | null>((cb) => stores.sessionStore.get(sid, cb));
  return { stores, sessions: createAccountSessions(stores.sessionIndex, SESSION_TIMEOUT_DEFAULTS), put, get, now };
}

test('the list holds the account\'s live sessions, the one asking first, then the most recently seen, named by handles', async (t) => {
  const { sessions, put, now } = await setup(t);
  await put('here', 1, now - 60_000, now - 1_000, { browser: 'Firefox', os: 'Linux', network: '192.0.2.0/24' });
  await put('phone', 1, now - 120_000, now - 5_000, { browser: 'Safari', os: 'iOS', network: '2001:db8:0:0::/64' });
  await put('laptop', 1, now - 120_000, now - 500);
  await put('idle', 1, now - idleMs - 10_000, now - idleMs - 1);
  await put('too-old', 1, now - absoluteMs - 1, now - 1_000);
  await put('bobs', 2, now - 1_000);

  const list = await sessions.list(1, 'here', now);
  assert.deepEqual(
    list.map((row) => [row.id, row.current]),
    [
      [handleOf('here'), true],
      [handleOf('laptop'), false],
      [handleOf('phone'), false],
    ],
    'past the idle or absolute limit is not live; another account\'s is not listed',
  );
  assert.deepEqual(list[2], {
    id: handleOf('phone'),
    current: false,
    client: { browser: 'Safari', os: 'iOS', network: '2001:db8:0:0::/64' },
    signedInAt: now - 120_000,
    lastSeenAt: now - 5_000,
  });
  for (const row of list) assert.match(row.id, SESSION_HANDLE_PATTERN);
  assert.ok(!JSON.stringify(list).includes('phone"'), 'no session id is shown');
  assert.deepEqual(await sessions.list(3, undefined, now), []);
});

test('revoking: only a live session of the account, never the one asking; anything else changes nothing', async (t) => {
  const { sessions, put, get, now } = await setup(t);
  await put('here', 1, now);
  await put('phone', 1, now);
  await put('bobs', 2, now);

  await assert.rejects(sessions.revoke(1, handleOf('bobs'), 'here', now), SessionNotFoundError, "another account's session");
  assert.notEqual(await get('bobs'), null, 'it lives on');
  await assert.rejects(sessions.revoke(1, handleOf('never'), 'here', now), SessionNotFoundError);
  await assert.rejects(sessions.revoke(1, handleOf('here'), 'here', now), CurrentSessionError);
  assert.notEqual(await get('here'), null);

  await sessions.revoke(1, handleOf('phone'), 'here', now);
  assert.equal(await get('phone'), null);
  await assert.rejects(sessions.revoke(1, handleOf('phone'), 'here', now), SessionNotFoundError, 'revoked once');
  assert.deepEqual((await sessions.list(1, 'here', now)).map((row) => row.id), [handleOf('here')]);
});

test('signing out everywhere else keeps the one asking; revokeAll leaves none', async (t) => {
  const { sessions, put, get, now } = await setup(t);
  for (const sid of ['here', 'phone', 'laptop']) await put(sid, 1, now);
  await put('bobs', 2, now);
  assert.equal(await sessions.revokeOthers(1, 'here'), 2);
  assert.deepEqual((await sessions.list(1, 'here', now)).map((row) => row.id), [handleOf('here')]);
  assert.equal(await sessions.revokeOthers(1, 'here'), 0);
  assert.equal(await sessions.revokeAll(1), 1);
  assert.equal(await get('here'), null);
  assert.notEqual(await get('bobs'), null, "another account's session stays");
});
