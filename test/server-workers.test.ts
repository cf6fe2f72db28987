/**
 * WORKERS=N on the real, compiled server (npm start's dist/server.js): two worker
 * processes on one port, sharing the machine's Redis (a key prefix of this test's own)
 * and PostgreSQL (a database of its own). Each request is followed to the worker that
 * served it through that worker's own request log line (pino writes its pid), and each
 * worker is checked to be a child of the primary. Nothing is exposed for the test.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { createClient } from 'redis';
import { hashPassword } from '../src/auth/passwords.js';
import { ROOT_DIR } from '../src/paths.js';
import { openStores } from '../src/storage/index.js';
import { TEST_SCRYPT } from './helpers/build.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL, postgresDatabase, redisPrefix } from './helpers/services.js';
import { waitUntil } from './helpers/wait.js';

const alice = { username: 'alice', password: 'correct horse battery staple' };

interface LogLine {
  pid: number;
  msg: string;
  worker?: number;
  url?: string;
  req?: { path: string };
  res?: { statusCode: number };
}

interface Answer {
  status: number;
  cookies: string[];
  text: string;
}

/** One request on a connection of its own (as many browsers would), so the primary may hand it to either worker. */
function request(base: string, method: string, urlPath: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${urlPath}`, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? ''), text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

class ServerProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  readonly child: ChildProcess;

  constructor(t: TestContext, env: Record<string, string>) {
    this.child = spawn(process.execPath, [path.join(ROOT_DIR, 'dist/server.js')], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => this.killAll());
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.lines.push(JSON.parse(line) as LogLine));
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderr.push(line));
  }

  /** Pids of the workers that said they listen, after `from` lines. */
  listening(from = 0): number[] {
    return this.lines.slice(from).filter((l) => l.msg === 'captcha-login listening').map((l) => l.pid);
  }

  requestsLogged(): LogLine[] {
    return this.lines.filter((l) => l.msg === 'request completed');
  }

  /** Sends a request and returns it with the pid of the worker whose log line says it served it. */
  async served(base: string, method: string, urlPath: string, headers: Record<string, string> = {}, body?: string): Promise<Answer & { pid: number }> {
    const before = this.requestsLogged().length;
    const answer = await request(base, method, urlPath, headers, body);
    await waitUntil(() => this.requestsLogged().length > before, 5_000, `the log line of ${method} ${urlPath}`);
    const logged = this.requestsLogged()[before] as LogLine;
    assert.equal(logged.req?.path, urlPath.split('?')[0]);
    assert.equal(logged.res?.statusCode, answer.status);
    return { ...answer, pid: logged.pid };
  }

  killAll(): void {
    for (const line of this.lines) if (line.worker) kill(line.worker, 'SIGKILL');
    this.child.kill('SIGKILL');
  }
}

function kill(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

const parentOf = (pid: number): number => Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

/** A data folder, a Redis prefix and a PostgreSQL database of this test's own, with alice's account in them. */
async function sharedStoresWithAlice(t: TestContext, label: string): Promise<{ dataDir: string; prefix: string; databaseUrl: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `${label}-`));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const prefix = redisPrefix(t);
  const databaseUrl = await postgresDatabase(t);
  const stores = await openStores({ dataDir, redisUrl: TEST_REDIS_URL, redisKeyPrefix: prefix, databaseUrl, pruneIntervalMs: 0 });
  await stores.users.create(alice.username, await hashPassword(alice.password, TEST_SCRYPT));
  await stores.close();
  return { dataDir, prefix, databaseUrl };
}

test('WORKERS=2 on the compiled server: two processes serve one port, a captcha fetched at one is answered at the other, a dead worker is replaced, SIGTERM ends all within 10 s', { timeout: 120_000 }, async (t) => {
  const built = spawnSync('npm', ['run', 'build'], { cwd: ROOT_DIR, encoding: 'utf8' });
  assert.equal(built.status, 0, built.stdout + built.stderr);
  const { dataDir, prefix, databaseUrl } = await sharedStoresWithAlice(t, 'workers');

  // No SESSION_SECRET: the primary makes the development one once, for both workers.
  const server = new ServerProcess(t, { DATA_DIR: dataDir, WORKERS: '2', REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, DATABASE_URL: databaseUrl });
  await waitUntil(() => new Set(server.listening()).size === 2, 30_000, 'two workers to listen');
  const workers = [...new Set(server.listening())];
  const primary = server.child.pid as number;
  for (const pid of workers) assert.equal(parentOf(pid), primary, `worker ${pid} is a child of the primary`);
  assert.deepEqual(
    server.lines.filter((l) => l.msg === 'worker started').map((l) => l.worker).sort(),
    [...workers].sort(),
    'the primary started exactly these workers',
  );
  const base = new URL(server.lines.find((l) => l.url)?.url as string).origin;

  const redis = createClient({ url: TEST_REDIS_URL });
  await redis.connect();
  t.after(() => redis.close());
  /** The answer the session holds for a page's captcha: read from the shared store, as any worker would. */
  const answerIn = async (cookie: string, captchaId: string): Promise<string> => {
    const sid = /captcha_login\.sid=s:([^.]+)\./.exec(decodeURIComponent(cookie))?.[1];
    const session = JSON.parse((await redis.get(`${prefix}sess:${sid}`)) ?? '{}') as { captcha?: Record<string, { answer: string }> };
    return session.captcha?.[captchaId]?.answer ?? '';
  };

  // Each step on a new connection: the primary deals them to the workers in turn.
  const servedBy = new Set<number>();
  let across = false;
  for (let attempt = 0; attempt < 6 && !across; attempt += 1) {
    const page = await server.served(base, 'GET', '/login');
    assert.equal(page.status, 200);
    const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.text)?.[1] as string;
    const captchaId = /data-captcha-id="([^"]+)"/.exec(page.text)?.[1] as string;
    const jar = page.cookies.join('; ');
    const picture = await server.served(base, 'GET', `/get_validCode_img?id=${captchaId}`, jar ? { cookie: jar } : {});
    assert.equal(picture.status, 200);
    const cookie = [...page.cookies, ...picture.cookies].join('; ');
    const captcha = await answerIn(cookie, captchaId);
    assert.match(captcha, /^\S{4,}$/, 'the session in Redis holds the challenge');
    const body = JSON.stringify({ ...alice, captcha, captchaId });
    const post = await server.served(base, 'POST', '/login', { cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf }, body);
    assert.deepEqual(JSON.parse(post.text), { ok: true, redirect: '/' }, `attempt ${attempt}: picture at ${picture.pid}, answer at ${post.pid}`);
    for (const pid of [page.pid, picture.pid, post.pid]) servedBy.add(pid);
    across = picture.pid !== post.pid;
  }
  assert.ok(across, 'a picture drawn by one worker was answered at the other');
  assert.deepEqual([...servedBy].sort(), [...workers].sort(), 'requests were served by both workers');

  // A worker that dies unexpectedly is replaced; the port keeps being served meanwhile.
  const [victim, survivor] = workers as [number, number];
  const linesBefore = server.lines.length;
  process.kill(victim, 'SIGKILL');
  await waitUntil(() => server.listening(linesBefore).length === 1, 30_000, 'a replacement worker');
  const replacement = server.listening(linesBefore)[0] as number;
  assert.equal(parentOf(replacement), primary);
  assert.ok(server.lines.some((l) => l.msg === 'worker died; starting another'));
  const servedAfter = new Set<number>();
  for (let i = 0; i < 4; i += 1) servedAfter.add((await server.served(base, 'GET', '/healthz')).pid);
  assert.deepEqual([...servedAfter].sort(), [survivor, replacement].sort());

  const signalled = Date.now();
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.stderr.join('\n'));
  assert.ok(Date.now() - signalled < 10_000, `exited ${Date.now() - signalled} ms after SIGTERM`);
  for (const pid of [survivor, replacement]) assert.equal(kill(pid, 0), false, `worker ${pid} is gone`);
  assert.equal(server.lines.filter((l) => l.msg === 'stopped').length, 3, 'both workers and the primary stopped cleanly');
});

test('WORKERS=2 without shared stores is refused before any worker starts, naming the variables', { timeout: 30_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'workers-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const partial: Array<Record<string, string>> = [{}, { REDIS_URL: TEST_REDIS_URL }, { DATABASE_URL: TEST_DATABASE_URL }];
  for (const env of partial) {
    const server = new ServerProcess(t, { DATA_DIR: dataDir, WORKERS: '2', ...env });
    assert.equal(await server.exited, 1);
    const message = server.stderr.join('\n');
    assert.match(message, /WORKERS/);
    assert.match(message, /REDIS_URL and DATABASE_URL/);
    assert.deepEqual(server.lines.filter((l) => l.msg === 'worker started'), [], 'no worker was started');
  }
});

test('two instances as processes: a session made at A is still signed in at B after A is killed with SIGKILL', { timeout: 120_000 }, async (t) => {
  const { dataDir, prefix, databaseUrl } = await sharedStoresWithAlice(t, 'instances');
  const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, DATABASE_URL: databaseUrl, SESSION_SECRET: 'a-secret-both-instances-share-0123456789' };
  if (!existsSync(path.join(ROOT_DIR, 'dist/server.js'))) assert.equal(spawnSync('npm', ['run', 'build'], { cwd: ROOT_DIR }).status, 0);
  const a = new ServerProcess(t, { ...env, DATA_DIR: path.join(dataDir, 'a') });
  const b = new ServerProcess(t, { ...env, DATA_DIR: path.join(dataDir, 'b') });
  await waitUntil(() => a.listening().length === 1 && b.listening().length === 1, 30_000, 'both instances to listen');
  const [urlA, urlB] = [a, b].map((server) => new URL(server.lines.find((l) => l.url)?.url as string).origin) as [string, string];

  const redis = createClient({ url: TEST_REDIS_URL });
  await redis.connect();
  t.after(() => redis.close());
  // Three people sign in at A, each with the answer their session holds.
  const cookies: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    const page = await request(urlA, 'GET', '/login');
    const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.text)?.[1] as string;
    const captchaId = /data-captcha-id="([^"]+)"/.exec(page.text)?.[1] as string;
    const picture = await request(urlA, 'GET', `/get_validCode_img?id=${captchaId}`, page.cookies.length ? { cookie: page.cookies.join('; ') } : {});
    let cookie = [...page.cookies, ...picture.cookies].join('; ');
    const sid = /captcha_login\.sid=s:([^.]+)\./.exec(decodeURIComponent(cookie))?.[1];
    const session = JSON.parse((await redis.get(`${prefix}sess:${sid}`)) ?? '{}') as { captcha?: Record<string, { answer: string }> };
    const body = JSON.stringify({ ...alice, captcha: session.captcha?.[captchaId]?.answer, captchaId });
    const post = await request(urlA, 'POST', '/login', { cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf }, body);
    assert.deepEqual(JSON.parse(post.text), { ok: true, redirect: '/' });
    cookie = post.cookies.find((c) => c.startsWith('captcha_login.sid=')) ?? cookie;
    cookies.push(cookie);
  }

  a.child.kill('SIGKILL');
  await a.exited;
  for (const cookie of cookies) {
    const home = await request(urlB, 'GET', '/', { cookie });
    assert.equal(home.status, 200, 'B still knows the session made at A');
    assert.match(home.text, /Hello, alice!/);
  }
});
