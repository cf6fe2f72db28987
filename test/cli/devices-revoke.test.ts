import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openStores } from '../../src/storage/index.js';
import { DEVICE_TRUST_MS } from '../../src/storage/ports.js';
import { ROOT_DIR } from '../../src/paths.js';

function devicesRevoke(dataDir: string, args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT_DIR, 'src/cli/devices-revoke.ts'), ...args], {
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: 'utf8',
  });
}

test("devices:revoke forgets every known device of the account, and only that account's", async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'devices-revoke-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const now = Date.now();
  const seed = await openStores({ dataDir, pruneIntervalMs: 0 });
  const dora = await seed.users.create('dora', 'hash');
  const erin = await seed.users.create('erin', 'hash');
  for (const token of ['phone', 'laptop']) for (const user of [dora, erin]) await seed.deviceTokens.trust(token, user.id, now + DEVICE_TRUST_MS, now);
  await seed.close();

  assert.equal(devicesRevoke(dataDir, []).status, 2, 'no username is a usage error');
  const missing = devicesRevoke(dataDir, ['nobody']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no account named nobody/);
  const revoked = devicesRevoke(dataDir, ['DORA']);
  assert.equal(revoked.status, 0, revoked.stderr);
  assert.match(revoked.stdout, /revoked every known device of dora/);

  const stores = await openStores({ dataDir, pruneIntervalMs: 0 });
  t.after(() => stores.close());
  for (const token of ['phone', 'laptop']) {
    assert.equal(await stores.deviceTokens.knows(token, dora.id, now), false, `${token} of dora`);
    assert.equal(await stores.deviceTokens.knows(token, erin.id, now), true, `${token} of erin`);
  }
});
