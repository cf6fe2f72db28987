/**
 * user:sessions and user:passwd, run as the operator runs them (a child process reading
 * the environment), on SQLite alone and on Redis with PostgreSQL.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { SessionData } from 'express-session';
import { handleOf } from '../../src/account/sessions.js';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { ROOT_DIR } from '../../src/paths.js';
import { openStores, type StorageConfig } from '../../src/storage/index.js';
import { TEST_SCRYPT } from '../helpers/build.js';
import { TEST_REDIS_URL, postgresDatabase, redisPrefix } from '../helpers/services.js';
import { call, tempDir } from '../storage/contract.js';

const OLD = 'correct horse battery staple';
const NEW = 'violet kettle drums at midnight';

type BackEnd = (t: TestContext) => Promise<Partial<StorageConfig>>;
const BACK_ENDS: Array<[string, BackEnd]> = [
  ['SQLite', async () => ({})],
  ['Redis + PostgreSQL', async (t) => ({ redisUrl: TEST_REDIS_URL, redisKeyPrefix: redisPrefix(t), databaseUrl: await postgresDatabase(t) })],
];

/** Runs src/cli/<file>.ts with the storage in the environment, as `npm run` would with those variables set. */
function run(file: string, dataDir: string, storage: Partial<StorageConfig>, args: string[], stdin = '') {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, REDIS_URL: storage.redisUrl, REDIS_KEY_PREFIX: storage.redisKeyPrefix, DATABASE_URL: storage.databaseUrl };
  for (const name of ['REDIS_URL', 'REDIS_KEY_PREFIX', 'DATABASE_URL']) if (env[name] === undefined) delete env[name];
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT_DIR, `src/cli/${file}.ts`), ...args], { input: stdin, env, encoding: 'utf8' });
}

/** Two accounts, dora with two live sessions (one from a known browser) and erin with one. */
async function seed(t: TestContext, backEnd: BackEnd) {
  const dataDir = tempDir(t, 'cli-sessions-');
  const storage = await backEnd(t);
  const stores = await openStores({ dataDir, ...storage, pruneIntervalMs: 0 });
  t.after(() => stores.close());
  const now = Date.now();
  const dora = await stores.users.create('dora', await hashPassword(OLD, TEST_SCRYPT));
  const erin = await stores.users.create('erin', await hashPassword(OLD, TEST_SCRYPT));
  const put = async (sid: string, userId: number, client: SessionData['client']) => {
    const record: SessionData = { cookie: { expires: new Date(now + 600_000), originalMaxAge: 600_000 }, user: { id: userId, username: 'x', signedInAt: now - 1_000 }, lastSeenAt: now, client };
    await call((cb) => stores.sessionStore.set(sid, record, cb));
  };
  await put('dora-laptop', dora.id, { browser: 'Firefox', os: 'Linux', network: '192.0.2.0/24' });
  await put('dora-phone', dora.id, { network: 'unknown' });
  await put('erin-laptop', erin.id, { browser: 'Chrome', os: 'Windows', network: '198.51.100.0/24' });
  const alive = async (sid: string) => (await call<SessionData | null>((cb) => stores.sessionStore.get(sid, cb))) !== null;
  /** The account's recorded events as (kind, detail), newest first. */
  const eventsOf = async (userId: number) => (await stores.activity.latest(userId, 20)).map((event) => [event.kind, event.detail]);
  return { dataDir, storage, stores, alive, now, eventsOf, dora, erin };
}

for (const [name, backEnd] of BACK_ENDS) {
  test(`${name}: user:sessions lists one line per live session, and --revoke signs every one out`, async (t) => {
    const { dataDir, storage, alive, now, eventsOf, dora } = await seed(t, backEnd);
    const listed = run('user-sessions', dataDir, storage, ['DORA']);
    assert.equal(listed.status, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n').sort();
    assert.equal(lines.length, 2, listed.stdout);
    const byHandle = new Map(lines.map((line) => [line.split('\t')[0], line.split('\t')]));
    assert.deepEqual(byHandle.get(handleOf('dora-laptop'))?.slice(1), [
      new Date(now - 1_000).toISOString(),
      new Date(now).toISOString(),
      '192.0.2.0/24',
      'Firefox on Linux',
    ]);
    assert.deepEqual(byHandle.get(handleOf('dora-phone'))?.slice(3), ['unknown', 'unknown browser on unknown system']);
    assert.ok(!listed.stdout.includes('dora-laptop'), 'handles, not session ids');

    const revoked = run('user-sessions', dataDir, storage, ['dora', '--revoke']);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.match(revoked.stdout, /signed out 2 session\(s\) of dora/);
    assert.deepEqual([await alive('dora-laptop'), await alive('dora-phone'), await alive('erin-laptop')], [false, false, true]);
    assert.equal(run('user-sessions', dataDir, storage, ['dora']).stdout, '', 'none left');
    assert.deepEqual(await eventsOf(dora.id), [['sessions_revoked', '2']], "recorded in dora's activity");
    assert.equal(run('user-sessions', dataDir, storage, ['dora', '--revoke']).status, 0);
    assert.deepEqual(await eventsOf(dora.id), [['sessions_revoked', '2']], 'signing out none records nothing');
  });

  test(`${name}: user:passwd sets a password by the sign-up rules, read from a pipe, and signs out everywhere`, async (t) => {
    const { dataDir, storage, stores, alive, eventsOf, dora, erin } = await seed(t, backEnd);
    const weak = run('user-passwd', dataDir, storage, ['dora'], 'password1\n');
    assert.equal(weak.status, 1);
    assert.match(weak.stderr, /^user:passwd: That password is too easy to guess/);
    assert.equal(await alive('dora-laptop'), true, 'a refused reset signs nobody out');

    const changed = run('user-passwd', dataDir, storage, ['Dora'], `${NEW}\nignored second line\n`);
    assert.equal(changed.status, 0, changed.stderr);
    assert.match(changed.stdout, /changed the password of dora; signed out 2 session\(s\)/);
    assert.ok(!changed.stdout.includes(NEW) && !changed.stderr.includes(NEW), 'the password is never printed');
    assert.equal(await verifyPassword(NEW, (await stores.users.findByUsername('dora'))?.passwordHash ?? ''), true);
    assert.equal(await verifyPassword(OLD, (await stores.users.findByUsername('erin'))?.passwordHash ?? ''), true, "erin's stays");
    assert.deepEqual([await alive('dora-laptop'), await alive('dora-phone'), await alive('erin-laptop')], [false, false, true]);
    assert.deepEqual(await eventsOf(dora.id), [['password_reset', undefined]], "the reset is in dora's activity, the refused one is not");
    assert.deepEqual(await eventsOf(erin.id), []);
  });
}

test('user:sessions and user:passwd: usage is exit 2, an unknown name exit 1 with one line', async (t) => {
  const { dataDir, storage } = await seed(t, async () => ({}));
  for (const [file, args] of [
    ['user-sessions', []],
    ['user-sessions', ['dora', '--revoke', 'extra']],
    ['user-sessions', ['dora', '--everything']],
    ['user-sessions', ['--revoke']],
    ['user-passwd', []],
    ['user-passwd', ['dora', 'erin']],
  ] as const) {
    const result = run(file, dataDir, storage, [...args], `${NEW}\n`);
    assert.equal(result.status, 2, `${file} ${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /^user:(sessions|passwd): usage: npm run user:(sessions|passwd) -- <username>/);
  }
  for (const file of ['user-sessions', 'user-passwd']) {
    const unknown = run(file, dataDir, storage, ['nobody'], `${NEW}\n`);
    assert.equal(unknown.status, 1, unknown.stderr);
    assert.equal(unknown.stderr, `${file.replace('-', ':')}: no account named nobody\n`);
  }
});
