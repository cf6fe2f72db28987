import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';
import { ROOT_DIR } from '../src/paths.js';

/** The message of the ConfigError that `env` causes. */
function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`${JSON.stringify(env)} was accepted`);
}

test('an empty environment gives the documented defaults', () => {
  const config = loadConfig({});
  assert.equal(config.env, 'development');
  assert.deepEqual(config.listen, { host: '127.0.0.1', port: 3000, headersTimeoutMs: 10_000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 5_000 });
  assert.equal(config.dataDir, path.resolve('data'));
  assert.deepEqual(config.captcha, { length: undefined, ttlMs: 120_000 });
  assert.equal(config.trustProxyHops, 0);
  assert.deepEqual(config.sessionTimeouts, { idleMs: 30 * 60_000, absoluteMs: 8 * 3_600_000, anonymousMs: 10 * 60_000 });
  assert.deepEqual(config.accounts, { concurrency: 2, unknownQueue: 4 });
  assert.deepEqual(config.storage, { redisUrl: undefined, redisKeyPrefix: 'captcha-login:', databaseUrl: undefined });
  assert.deepEqual(config.workers, { count: 1 });
  assert.deepEqual(config.attackMode, { minFailures: 10, failureShare: 0.5, anyShareFailures: 50, quietMs: 180_000, maxLevel: 4 });
});

test('values are parsed from the environment', () => {
  const config = loadConfig({ PORT: '8080', HOST: '0.0.0.0', CAPTCHA_LENGTH: '6', CAPTCHA_TTL_SECONDS: '60', DATA_DIR: '/var/lib/cl', RATE_LIMITS: 'off' });
  assert.deepEqual(
    [config.listen.port, config.listen.host, config.captcha.length, config.captcha.ttlMs, config.dataDir, config.ipRateLimits],
    [8080, '0.0.0.0', 6, 60_000, '/var/lib/cl', false],
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
    ['SCRYPT_CONCURRENCY', '0'],
    ['HTTP_REQUEST_TIMEOUT_SECONDS', '0'],
    ['RATE_LIMITS', 'maybe'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['REDIS_URL', '127.0.0.1:6379'],
    ['REDIS_KEY_PREFIX', 'has space'],
    ['DATABASE_URL', 'mysql://127.0.0.1/app'],
    ['WORKERS', '0'],
    ['WORKERS', 'all'],
    ['ATTACK_MODE_MIN_FAILURES', '0'],
    ['ATTACK_MODE_FAILURE_PERCENT', '101'],
    ['ATTACK_MODE_QUIET_SECONDS', '300'],
    ['ATTACK_MODE_MAX_LEVEL', '6'],
    ['ATTACK_MODE_FAILURES_ANY_SHARE', '0'],
  ]) {
    assert.match(configError({ [name as string]: value as string }), new RegExp(`${name}: `), `${name}=${value}`);
  }
});

test('cross-field checks name every variable they compare', () => {
  for (const [env, names] of [
    [{ SESSION_IDLE_MINUTES: '600', SESSION_ABSOLUTE_HOURS: '1' }, ['SESSION_IDLE_MINUTES', 'SESSION_ABSOLUTE_HOURS']],
    [{ ACCOUNT_LOCK_BASE_SECONDS: '600', ACCOUNT_LOCK_MAX_SECONDS: '60' }, ['ACCOUNT_LOCK_MAX_SECONDS', 'ACCOUNT_LOCK_BASE_SECONDS']],
    [{ RATE_LIMIT_POSTS_PER_MINUTE: '50', RATE_LIMIT_POSTS_PER_HOUR: '20' }, ['RATE_LIMIT_POSTS_PER_HOUR', 'RATE_LIMIT_POSTS_PER_MINUTE']],
    [{ HTTP_HEADERS_TIMEOUT_SECONDS: '30', HTTP_REQUEST_TIMEOUT_SECONDS: '10' }, ['HTTP_HEADERS_TIMEOUT_SECONDS', 'HTTP_REQUEST_TIMEOUT_SECONDS']],
    [{ ATTACK_MODE_MIN_FAILURES: '20', ATTACK_MODE_FAILURES_ANY_SHARE: '10' }, ['ATTACK_MODE_FAILURES_ANY_SHARE', 'ATTACK_MODE_MIN_FAILURES']],
    [{ NODE_ENV: 'production' }, ['SESSION_SECRET', 'NODE_ENV=production']],
    [{ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32) }, ['PUBLIC_ORIGIN', 'NODE_ENV=production']],
    [{ PUBLIC_ORIGIN: 'https://login.example.com/sign-in' }, ['PUBLIC_ORIGIN', 'origin only']],
    [{ PUBLIC_ORIGIN: 'ftp://login.example.com' }, ['PUBLIC_ORIGIN']],
    // Not a URL at all: the origin-only check must not throw on it (zod runs it after the failed URL check).
    [{ PUBLIC_ORIGIN: 'login.example.com' }, ['PUBLIC_ORIGIN', 'http:// or https://']],
    [{ PUBLIC_ORIGIN: 'https://' }, ['PUBLIC_ORIGIN']],
    [{ WORKERS: '2' }, ['WORKERS', 'REDIS_URL', 'DATABASE_URL']],
    [{ WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:6379' }, ['WORKERS', 'DATABASE_URL']],
  ] as const) {
    const message = configError(env);
    for (const name of names) assert.ok(message.includes(name), `${JSON.stringify(env)}: "${message}" does not name ${name}`);
  }
  assert.equal(loadConfig({ SESSION_IDLE_MINUTES: '60', SESSION_ABSOLUTE_HOURS: '1' }).sessionTimeouts.idleMs, 3_600_000, 'equal is allowed');
  const production = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32), PUBLIC_ORIGIN: 'https://login.example.com' });
  assert.equal(production.sessionSecret, 'x'.repeat(32));
  assert.equal(production.passkeys.origin, 'https://login.example.com');
  assert.equal(loadConfig({ PUBLIC_ORIGIN: 'http://localhost:3000/' }).passkeys.origin, 'http://localhost:3000', 'a trailing slash is fine');
  assert.equal(loadConfig({}).passkeys.origin, undefined, "development: each request's own origin");
  const shared = { REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://127.0.0.1/app' };
  assert.equal(loadConfig({ WORKERS: '2', ...shared }).workers.count, 2, 'WORKERS with both stores shared');
});

test('every problem is reported at once', () => {
  const message = configError({ PORT: 'x', SESSION_IDLE_MINUTES: '600', SESSION_ABSOLUTE_HOURS: '1', CAPTCHA_LENGTH: '9' });
  for (const name of ['PORT', 'SESSION_IDLE_MINUTES', 'CAPTCHA_LENGTH']) assert.ok(message.includes(name), name);
});

test('a bad configuration stops the server with exit code 1 and a message, no stack trace', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT_DIR, 'src/server.ts')], {
    env: { ...process.env, SESSION_IDLE_MINUTES: '600', SESSION_ABSOLUTE_HOURS: '1', PORT: '0', DATA_DIR: '/nonexistent/never-created' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /SESSION_IDLE_MINUTES: must not exceed SESSION_ABSOLUTE_HOURS/);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(result.stdout, '', 'nothing started');
});
