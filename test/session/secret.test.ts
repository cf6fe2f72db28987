import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DEV_SECRET_FILE, loadOrCreateDevSecret } from '../../src/session/secret.js';

test('the development secret is generated once, kept private and reused', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'secret-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = loadOrCreateDevSecret(dir);
  assert.ok(first.length >= 32);
  assert.equal(loadOrCreateDevSecret(dir), first);
  assert.equal(statSync(path.join(dir, DEV_SECRET_FILE)).mode & 0o777, 0o600);
  const other = mkdtempSync(path.join(tmpdir(), 'secret-'));
  t.after(() => rmSync(other, { recursive: true, force: true }));
  assert.notEqual(loadOrCreateDevSecret(other), first, 'each data folder gets its own secret');
});

test('the data folder is made (owner-only) when nothing else made it, as with Redis and PostgreSQL', (t) => {
  const parent = mkdtempSync(path.join(tmpdir(), 'secret-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dir = path.join(parent, 'data', 'instance-a');
  assert.ok(loadOrCreateDevSecret(dir).length >= 32);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
});
