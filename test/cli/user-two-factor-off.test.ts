import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { openStores, type StorageConfig } from '../../src/storage/index.js';
import { runCli } from '../helpers/cli.js';
import { TEST_REDIS_URL, postgresDatabase, redisPrefix } from '../helpers/services.js';
import { tempDir } from '../storage/contract.js';

const backEnds: Record<string, (t: TestContext) => Promise<Partial<StorageConfig>>> = {
  SQLite: async () => ({}),
  'Redis + PostgreSQL': async (t) => ({ redisUrl: TEST_REDIS_URL, redisKeyPrefix: redisPrefix(t), databaseUrl: await postgresDatabase(t) }),
};

for (const [backEnd, storageOf] of Object.entries(backEnds)) {
  test(`${backEnd}: user:two-factor-off removes the account's TOTP and recovery codes and records it; only that account; unknown names and usage refused`, async (t) => {
    const options = { dataDir: tempDir(t, 'user-2fa-off-'), storage: await storageOf(t) };
    const stores = await openStores({ dataDir: options.dataDir, ...options.storage, pruneIntervalMs: 0 });
    t.after(() => stores.close());
    const alice = await stores.users.create('alice', 'hash');
    const bob = await stores.users.create('bob', 'hash');
    for (const user of [alice, bob]) assert.equal(await stores.totp.enable(user.id, 'JBSWY3DPEHPK3PXP', [`code-of-${user.id}`], Date.now()), true);

    assert.equal(runCli('user-two-factor-off', [], options).status, 2);
    const missing = runCli('user-two-factor-off', ['nobody'], options);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'user:two-factor-off: no account named nobody\n');

    const off = runCli('user-two-factor-off', ['ALICE'], options);
    assert.equal(off.status, 0, off.stderr);
    assert.equal(off.stdout, 'turned off two-step verification of alice\n');
    assert.equal(await stores.totp.find(alice.id), undefined);
    assert.equal(await stores.totp.useRecoveryCode(alice.id, `code-of-${alice.id}`), false, 'the recovery codes went too');
    assert.notEqual(await stores.totp.find(bob.id), undefined, "bob's stays");
    assert.deepEqual((await stores.activity.latest(alice.id, 10)).map((event) => event.kind), ['totp_disabled']);

    const again = runCli('user-two-factor-off', ['alice'], options);
    assert.equal(again.status, 0);
    assert.equal(again.stdout, 'alice has no two-step verification\n');
    assert.deepEqual((await stores.activity.latest(alice.id, 10)).map((event) => event.kind), ['totp_disabled'], 'recorded once');
  });
}
