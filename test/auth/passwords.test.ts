import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OWASP_SCRYPT, hashPassword, verifyPassword } from '../../src/auth/passwords.js';

test('hashes use OWASP scrypt parameters and a 16-byte random salt', async () => {
  const stored = await hashPassword('pässwörd with spaces');
  const [scheme, n, r, p, salt, key] = stored.split('$');
  assert.deepEqual([scheme, Number(n), Number(r), Number(p)], ['scrypt', 2 ** 17, 8, 1]);
  assert.equal(Buffer.from(salt ?? '', 'base64').length, 16);
  assert.equal(Buffer.from(key ?? '', 'base64').length, OWASP_SCRYPT.keyLength);
  assert.notEqual(await hashPassword('pässwörd with spaces'), stored, 'each hash has its own salt');
});

test('verification accepts the password and nothing else', async () => {
  const stored = await hashPassword('correct horse');
  assert.equal(await verifyPassword('correct horse', stored), true);
  assert.equal(await verifyPassword('correct horsE', stored), false);
  assert.equal(await verifyPassword('', stored), false);
});

test('unicode is compared in one normal form', async () => {
  const composed = 'caf\u00e9-password';
  const decomposed = 'cafe\u0301-password';
  assert.equal(await verifyPassword(decomposed, await hashPassword(composed)), true);
});

test('a stored value in another format never verifies', async () => {
  for (const stored of ['', 'plain', 'bcrypt$x$y', 'scrypt$abc$8$1$c2FsdA==$a2V5', 'scrypt$16384$8$1']) {
    assert.equal(await verifyPassword('anything', stored), false, stored);
  }
});
