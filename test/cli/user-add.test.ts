import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { verifyPassword } from '../../src/auth/passwords.js';
import { openDataDirDatabase } from '../../src/storage/sqlite/database.js';
import { ROOT_DIR } from '../../src/paths.js';

function userAdd(dataDir: string, args: string[], stdin: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT_DIR, 'src/cli/user-add.ts'), ...args], {
    input: stdin,
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: 'utf8',
  });
}

test('user:add reads the password from a pipe and creates a user who can sign in', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'user-add-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const created = userAdd(dataDir, ['dora'], 'a long passphrase\n');
  assert.equal(created.status, 0, created.stderr);
  assert.match(created.stdout, /created user dora/);
  assert.ok(!created.stdout.includes('a long passphrase'));

  const db = openDataDirDatabase(dataDir);
  const row = db.prepare('SELECT password_hash FROM users WHERE username = ?').get('dora') as { password_hash: string };
  db.close();
  assert.equal(await verifyPassword('a long passphrase', row.password_hash), true);

  const again = userAdd(dataDir, ['DORA'], 'another passphrase\n');
  assert.equal(again.status, 1);
  assert.match(again.stderr, /taken/);
});

test('user:add applies the sign-up rules: name, length and strength', (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'user-add-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  assert.equal(userAdd(dataDir, [], 'long enough password\n').status, 2, 'no username is a usage error');
  for (const [args, stdin, message] of [
    [['no spaces allowed'], 'long enough password\n', /username of 3 to 32 characters/],
    [['erin'], 'short\n', /at least 8 characters/],
    [['bob'], 'password1\n', /too easy to guess/],
    [['bob'], 'bob12345\n', /too easy to guess/],
  ] as const) {
    const result = userAdd(dataDir, [...args], stdin);
    assert.equal(result.status, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  const db = openDataDirDatabase(dataDir);
  t.after(() => db.close());
  assert.equal((db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n, 0, 'no account was created');
});
