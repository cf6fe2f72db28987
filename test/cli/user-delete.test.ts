import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { SessionData } from 'express-session';
import { LOCKOUT_DEFAULTS, countedAs, createLockout, type Client } from '../../src/auth/lockout.js';
import { openStores, type StorageConfig } from '../../src/storage/index.js';
import { DEVICE_TRUST_MS, type User } from '../../src/storage/ports.js';
import { runCli, type CliOptions } from '../helpers/cli.js';
import { TEST_REDIS_URL, postgresDatabase, redisPrefix } from '../helpers/services.js';
import { call, tempDir } from '../storage/contract.js';

const backEnds: Record<string, (t: TestContext) => Promise<Partial<StorageConfig>>> = {
  SQLite: async () => ({}),
  'Redis + PostgreSQL': async (t) => ({ redisUrl: TEST_REDIS_URL, redisKeyPrefix: redisPrefix(t), databaseUrl: await postgresDatabase(t) }),
};

/** Stores with two accounts that each have a session, a passkey, TOTP, an event, a known device and a locked lockout count. */
async function seeded(t: TestContext, storageOf: (t: TestContext) => Promise<Partial<StorageConfig>>) {
  const options: CliOptions = { dataDir: tempDir(t, 'user-delete-'), storage: await storageOf(t) };
  const stores = await openStores({ dataDir: options.dataDir, ...options.storage, pruneIntervalMs: 0 });
  t.after(() => stores.close());
  const now = Date.now();
  const lockout = createLockout(stores.failedLogins, LOCKOUT_DEFAULTS);
  const client = (user: User): Client => ({ account: countedAs(user, user.username), network: '192.0.2.0/24' });
  const users: User[] = [];
  for (const name of ['alice', 'bob']) {
    const user = await stores.users.create(name, 'hash');
    users.push(user);
    await stores.passkeys.add({ id: `${name}-key`, userId: user.id, publicKey: new Uint8Array([1]), counter: 0, transports: [], name, createdAt: 1 }, 10);
    await stores.activity.record({ userId: user.id, kind: 'sign_in', at: now, network: '192.0.2.0/24', detail: 'password' });
    await stores.deviceTokens.trust(`${name}-device`, user.id, now + DEVICE_TRUST_MS, now);
    await stores.totp.enable(user.id, 'SECRET', [`${name}-recovery`], now);
    const session: SessionData = { cookie: { expires: new Date(now + 600_000), originalMaxAge: 600_000 }, user: { id: user.id, username: name, signedInAt: now }, lastSeenAt: now };
    await call((cb) => stores.sessionStore.set(`${name}-session`, session, cb));
    for (let i = 0; i < LOCKOUT_DEFAULTS.afterFailures; i += 1) await lockout.begin(client(user));
  }
  /** What is left of the account: its row, passkey, TOTP, events, known device, and whether its count is still locked. */
  const leftOf = async (user: User) => ({
    account: (await stores.users.findByUsername(user.username)) !== undefined,
    passkey: (await stores.passkeys.find(`${user.username}-key`)) !== undefined,
    totp: (await stores.totp.find(user.id)) !== undefined,
    session: (await call((cb) => stores.sessionStore.get(`${user.username}-session`, cb))) !== null,
    events: (await stores.activity.latest(user.id, 20)).length,
    device: await stores.deviceTokens.knows(`${user.username}-device`, user.id, now),
    locked: (await lockout.begin(client(user))) === undefined,
  });
  const [alice, bob] = users as [User, User];
  return { options, stores, alice, bob, leftOf };
}

const everything = { account: true, passkey: true, totp: true, session: true, events: 1, device: true, locked: true };
const nothing = { account: false, passkey: false, totp: false, session: false, events: 0, device: false, locked: false };

for (const [backEnd, storageOf] of Object.entries(backEnds)) {
  test(`${backEnd}: user:delete --yes deletes the account with its sessions, passkeys, TOTP, events, known devices and lockout counts, and only that account's`, async (t) => {
    const { options, alice, bob, leftOf } = await seeded(t, storageOf);
    assert.equal(runCli('user-delete', [], options).status, 2, 'no username is a usage error');
    assert.equal(runCli('user-delete', ['alice', 'bob', '--yes'], options).status, 2, 'one name only');
    const unconfirmed = runCli('user-delete', ['alice'], options);
    assert.equal(unconfirmed.status, 2, 'not at a terminal and no --yes: nobody could confirm');
    assert.match(unconfirmed.stderr, /add --yes/);
    const missing = runCli('user-delete', ['nobody', '--yes'], options);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'user:delete: no account named nobody\n');
    assert.deepEqual(await leftOf(alice), everything, 'nothing was deleted yet');

    const deleted = runCli('user-delete', ['--yes', 'Alice'], options);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'deleted alice\n');
    assert.deepEqual(await leftOf(alice), nothing);
    assert.deepEqual(await leftOf(bob), everything);
  });
}

test('user:delete at a terminal asks for the name again, and deletes nothing when it does not match', async (t) => {
  const { options, alice, bob, leftOf } = await seeded(t, backEnds.SQLite!);
  const mismatch = runCli('user-delete', ['alice'], { ...options, terminal: true, input: 'alicia\n' });
  assert.equal(mismatch.status, 1, mismatch.stdout);
  assert.match(mismatch.stdout, /Type the name again/);
  assert.match(mismatch.stdout, /the name typed did not match; nothing was deleted/);
  assert.deepEqual(await leftOf(alice), everything);

  const confirmed = runCli('user-delete', ['alice'], { ...options, terminal: true, input: 'ALICE\n' });
  assert.equal(confirmed.status, 0, confirmed.stdout);
  assert.match(confirmed.stdout, /deleted alice/);
  assert.deepEqual(await leftOf(alice), nothing);
  assert.deepEqual(await leftOf(bob), everything);
});

