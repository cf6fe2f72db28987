import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { openStores, type StorageConfig } from '../../src/storage/index.js';
import { runCli } from '../helpers/cli.js';
import { postgresDatabase } from '../helpers/services.js';
import { tempDir } from '../storage/contract.js';

const backEnds: Record<string, (t: TestContext) => Promise<Partial<StorageConfig>>> = {
  SQLite: async () => ({}),
  PostgreSQL: async (t) => ({ databaseUrl: await postgresDatabase(t) }),
};

const HEADER = 'NAME                              CREATED (UTC)     LOCKED  TOTP  PASSKEYS';

for (const [backEnd, storageOf] of Object.entries(backEnds)) {
  test(`${backEnd}: user:list shows each account, oldest first: name, created, locked, TOTP, passkeys`, async (t) => {
    const options = { dataDir: tempDir(t, 'user-list-'), storage: await storageOf(t) };
    assert.equal(runCli('user-list', ['extra'], options).status, 2, 'it takes no arguments');
    const empty = runCli('user-list', [], options);
    assert.equal(empty.status, 0, empty.stderr);
    assert.equal(empty.stdout, `${HEADER}\n`, 'no account: the header alone');

    const stores = await openStores({ dataDir: options.dataDir, ...options.storage, pruneIntervalMs: 0 });
    t.after(() => stores.close());
    const alice = await stores.users.create('alice', 'hash');
    await stores.users.create('Bob', 'hash');
    await stores.users.setDisabled(alice.id, Date.now());
    await stores.totp.enable(alice.id, 'SECRET', ['code'], Date.now());
    for (const id of ['one', 'two']) {
      await stores.passkeys.add({ id, userId: alice.id, publicKey: new Uint8Array([1]), counter: 0, transports: [], name: id, createdAt: 1 }, 10);
    }
    const listed = runCli('user-list', [], options);
    assert.equal(listed.status, 0, listed.stderr);
    const created = new Date(alice.createdAt).toISOString().slice(0, 16).replace('T', ' ');
    const lines = listed.stdout.trimEnd().split('\n');
    assert.equal(lines[0], HEADER);
    assert.equal(lines[1], `alice${' '.repeat(29)}${created}  yes     on    2`);
    assert.match(lines[2] ?? '', /^Bob {31}\d{4}-\d\d-\d\d \d\d:\d\d {2}no {6}off {3}0$/);
    assert.equal(lines.length, 3);
  });
}

test('user:list reads the accounts page by page, and lists every one', async (t) => {
  const dataDir = tempDir(t, 'user-list-');
  const stores = await openStores({ dataDir, pruneIntervalMs: 0 });
  const count = 1_001;
  for (let i = 0; i < count; i += 1) await stores.users.create(`user${String(i).padStart(4, '0')}`, 'hash');
  await stores.close();
  const listed = runCli('user-list', [], { dataDir });
  assert.equal(listed.status, 0, listed.stderr);
  const names = listed.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(' ')[0]);
  assert.equal(names.length, count, 'more than two pages of 500');
  assert.deepEqual(names, Array.from({ length: count }, (_, i) => `user${String(i).padStart(4, '0')}`));
});
