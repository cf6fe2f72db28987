import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DATABASE_FILE, openDataDirDatabase } from '../src/sqlite.js';

const modeOf = (file: string) => statSync(file).mode & 0o777;

test('the data folder is created 0700 and the database files 0600', (t) => {
  const parent = mkdtempSync(path.join(tmpdir(), 'data-mode-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dataDir = path.join(parent, 'data');
  const db = openDataDirDatabase(dataDir);
  t.after(() => db.close());
  db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
  const file = path.join(dataDir, DATABASE_FILE);
  assert.equal(modeOf(dataDir).toString(8), '700');
  for (const name of [file, `${file}-wal`, `${file}-shm`]) assert.equal(modeOf(name).toString(8), '600', name);
});

test("an older install's world-readable database is tightened on open", (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'data-mode-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const file = path.join(dataDir, DATABASE_FILE);
  writeFileSync(file, '');
  chmodSync(file, 0o644);
  openDataDirDatabase(dataDir).close();
  assert.equal(modeOf(file).toString(8), '600');
});
