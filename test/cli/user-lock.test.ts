import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { LOCKOUT_DEFAULTS, countedAs, createLockout, type Client } from '../../src/auth/lockout.js';
import { openStores, type StorageConfig } from '../../src/storage/index.js';
import type { User } from '../../src/storage/ports.js';
import { runCli } from '../helpers/cli.js';
import { TEST_REDIS_URL, postgresDatabase, redisPrefix } from '../helpers/services.js';
import { call, tempDir } from '../storage/contract.js';

const backEnds: Record<string, (t: TestContext) => Promise<Partial<StorageConfig>>> = {
  SQLite: async () => ({}),
  'Redis + PostgreSQL': async (t) => ({ redisUrl: TEST_REDIS_URL, redisKeyPrefix: redisPrefix(t), databaseUrl: await postgresDatabase(t) }),
};

for (const [backEnd, storageOf] of Object.entries(backEnds)) {
  test(`${backEnd}: user:lock locks the account, records it and signs it out everywhere; user:unlock lifts it and clears every lockout count of the account`, async (t) => {
    const options = { dataDir: tempDir(t, 'user-lock-'), storage: await storageOf(t) };
    const stores = await openStores({ dataDir: options.dataDir, ...options.storage, pruneIntervalMs: 0 });
    t.after(() => stores.close());
    const alice = await stores.users.create('alice', 'hash');
    const bob = await stores.users.create('bob', 'hash');
    const now = Date.now();
    const put = (sid: string, user: User) =>
      call((cb) =>
        stores.sessionStore.set(sid, { cookie: { expires: new Date(now + 600_000), originalMaxAge: 600_000 }, user: { id: user.id, username: user.username, signedInAt: now }, lastSeenAt: now }, cb),
      );
    for (const [sid, user] of [['alice-laptop', alice], ['alice-phone', alice], ['bob-laptop', bob]] as const) await put(sid, user);
    const alive = async (sid: string) => (await call((cb) => stores.sessionStore.get(sid, cb))) !== null;
    const kinds = async (user: User) => (await stores.activity.latest(user.id, 20)).map((event) => event.kind);

    assert.equal(runCli('user-lock', [], options).status, 2, 'no username is a usage error');
    assert.equal(runCli('user-unlock', ['alice', 'bob'], options).status, 2, 'one name only');
    for (const command of ['user-lock', 'user-unlock']) {
      const missing = runCli(command, ['nobody'], options);
      assert.equal(missing.status, 1, command);
      assert.equal(missing.stderr, `${command.replace('-', ':')}: no account named nobody\n`);
    }

    const locked = runCli('user-lock', ['ALICE'], options);
    assert.equal(locked.status, 0, locked.stderr);
    assert.equal(locked.stdout, 'locked alice; signed out 2 session(s)\n');
    assert.deepEqual([await alive('alice-laptop'), await alive('alice-phone'), await alive('bob-laptop')], [false, false, true], 'signed out everywhere, at once');
    assert.ok((await stores.users.findById(alice.id))?.disabledAt !== undefined);
    assert.equal((await stores.users.findById(bob.id))?.disabledAt, undefined, 'only that account');
    assert.deepEqual(await kinds(alice), ['account_locked']);
    const again = runCli('user-lock', ['alice'], options);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /^alice was already locked, since \d{4}-\S+; signed out 0 session\(s\)$/m);
    assert.deepEqual(await kinds(alice), ['account_locked'], 'recorded once');

    // Lock every count the lockout keeps for alice (and some of bob's): four networks use
    // up her untrusted budget, a known device its own count, and her name its own.
    const lockout = createLockout(stores.failedLogins, LOCKOUT_DEFAULTS);
    const clients = (user: User): Client[] => [
      ...['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '10.0.0.0/24'].map((network) => ({ account: countedAs(user, user.username), network })),
      { account: countedAs(user, user.username), network: '192.0.2.0/24', device: 'laptop' },
      { account: countedAs(undefined, user.username), network: '192.0.2.0/24' },
    ];
    for (const user of [alice, bob]) {
      for (const client of clients(user)) for (let i = 0; i < LOCKOUT_DEFAULTS.afterFailures; i += 1) assert.ok(await lockout.begin(client));
    }
    const fresh = (user: User): Client => ({ account: countedAs(user, user.username), network: '172.16.0.0/24' });
    const refused = async (user: User) => {
      const outcomes = await Promise.all([...clients(user), fresh(user)].map((client) => lockout.begin(client)));
      return outcomes.map((attempt) => attempt === undefined);
    };
    assert.deepEqual(await refused(alice), [true, true, true, true, true, true, true], 'every count is locked, and the budget locks a new network too');

    const unlocked = runCli('user-unlock', ['alice'], options);
    assert.equal(unlocked.status, 0, unlocked.stderr);
    assert.equal(unlocked.stdout, 'unlocked alice, and cleared its lockout counts\n');
    assert.equal((await stores.users.findById(alice.id))?.disabledAt, undefined);
    assert.deepEqual(await kinds(alice), ['account_unlocked', 'account_locked']);
    assert.deepEqual(await refused(alice), [false, false, false, false, false, false, false], 'every count of alice was cleared');
    assert.deepEqual(await refused(bob), [true, true, true, true, true, true, true], "bob's stay");

    const notLocked = runCli('user-unlock', ['bob'], options);
    assert.equal(notLocked.status, 0);
    assert.equal(notLocked.stdout, 'bob was not locked; its lockout counts were cleared\n');
    assert.deepEqual(await refused(bob), [false, false, false, false, false, false, false], 'an unlock of a person locked out by guesses');
    assert.deepEqual(await kinds(bob), [], 'no lock was lifted: nothing recorded');
  });
}
