import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

test('an empty environment gives the documented defaults', () => {
  const config = loadConfig({});
  assert.equal(config.env, 'development');
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 3000);
  assert.equal(config.dataDir, path.resolve('data'));
  assert.equal(config.captchaTtlMs, 120_000);
  assert.equal(config.captchaLength, undefined);
  assert.equal(config.trustProxyHops, 0);
});

test('values are parsed from the environment', () => {
  const config = loadConfig({ PORT: '8080', HOST: '0.0.0.0', CAPTCHA_LENGTH: '6', CAPTCHA_TTL_SECONDS: '60', DATA_DIR: '/var/lib/cl' });
  assert.deepEqual(
    [config.port, config.host, config.captchaLength, config.captchaTtlMs, config.dataDir],
    [8080, '0.0.0.0', 6, 60_000, '/var/lib/cl'],
  );
});

test('a bad value fails fast and names its variable', () => {
  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['CAPTCHA_LENGTH', '2'],
    ['CAPTCHA_TTL_SECONDS', '1.5'],
    ['NODE_ENV', 'staging'],
    ['SESSION_SECRET', 'short'],
  ]) {
    assert.throws(() => loadConfig({ [name as string]: value }), (err: unknown) => err instanceof ConfigError && err.message.includes(name as string), `${name}=${value}`);
  }
});

test('production refuses to start without SESSION_SECRET', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /SESSION_SECRET is required/);
  const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32) });
  assert.equal(config.sessionSecret, 'x'.repeat(32));
});
