/**
 * /metrics on the real, compiled server (src/metrics/cluster.ts, src/server.ts): with
 * WORKERS=2 the primary serves the metrics port and one scrape holds both workers' series
 * (each labelled with its worker), which move with a sign-in flow; without METRICS_PORT
 * the process listens on its one port and nothing else. Which process listens on what is
 * read from /proc (its sockets in the LISTEN state), not from what the server says.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { createClient } from 'redis';
import { hashPassword } from '../../src/auth/passwords.js';
import { ROOT_DIR } from '../../src/paths.js';
import { openStores } from '../../src/storage/index.js';
import { TEST_SCRYPT } from '../helpers/build.js';
import { sample, samples } from '../helpers/metrics.js';
import { TEST_REDIS_URL, postgresDatabase, redisPrefix } from '../helpers/services.js';
import { waitUntil } from '../helpers/wait.js';

const alice = { username: 'alice', password: 'correct horse battery staple' };
const TOKEN = 'the-scraper-token-of-this-test-0123456789';

interface LogLine {
  pid: number;
  msg: string;
  url?: string;
  req?: { path: string };
}

interface Answer {
  status: number;
  cookies: string[];
  text: string;
}

/** One request on a connection of its own, so the primary may hand it to either worker. */
function request(url: string, method = 'GET', headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? ''), text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

function startServer(t: TestContext, env: Record<string, string>): { child: ChildProcess; lines: LogLine[] } {
  const child = spawn(process.execPath, [path.join(ROOT_DIR, 'dist/server.js')], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: LogLine[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line) as LogLine));
  t.after(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  return { child, lines };
}

/** The TCP ports `pid` listens on: its socket inodes matched against the kernel's LISTEN table. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined; // closed meanwhile
        }
      })
      .filter((inode) => inode !== undefined),
  );
  const ports = ['tcp', 'tcp6'].flatMap((table) =>
    readFileSync(`/proc/${pid}/net/${table}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && inodes.has(fields[9] ?? ''))
      .map((fields) => parseInt((fields[1] ?? '').split(':')[1] ?? '', 16)),
  );
  return [...new Set(ports)].sort((a, b) => a - b);
}

const portOf = (url: string) => Number(new URL(url).port);

test('WORKERS=2 with METRICS_PORT: the primary serves one scrape holding both workers, whose counts move with a sign-in flow', { timeout: 120_000 }, async (t) => {
  const built = spawnSync('npm', ['run', 'build'], { cwd: ROOT_DIR, encoding: 'utf8' });
  assert.equal(built.status, 0, built.stdout + built.stderr);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'metrics-workers-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const prefix = redisPrefix(t);
  const databaseUrl = await postgresDatabase(t);
  const stores = await openStores({ dataDir, redisUrl: TEST_REDIS_URL, redisKeyPrefix: prefix, databaseUrl, pruneIntervalMs: 0 });
  await stores.users.create(alice.username, await hashPassword(alice.password, TEST_SCRYPT));
  await stores.close();

  const { child, lines } = startServer(t, {
    DATA_DIR: dataDir,
    WORKERS: '2',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    DATABASE_URL: databaseUrl,
    METRICS_PORT: '0',
    METRICS_TOKEN: TOKEN,
  });
  const primary = child.pid as number;
  const logged = (msg: string) => lines.filter((line) => line.msg === msg);
  await waitUntil(() => logged('captcha-login listening').length === 2 && logged('metrics listening').length === 1, 30_000, 'two workers and the metrics port');
  const metricsLine = logged('metrics listening')[0] as LogLine;
  assert.equal(metricsLine.pid, primary, 'the primary serves the metrics port');
  const metricsUrl = metricsLine.url as string;
  assert.equal(new URL(metricsUrl).hostname, '127.0.0.1');
  const base = new URL(logged('captcha-login listening')[0]?.url as string).origin;
  assert.deepEqual(listeningPorts(primary), [portOf(base), portOf(metricsUrl)].sort((a, b) => a - b));

  const scrape = async () => {
    const answer = await request(metricsUrl, 'GET', { authorization: `Bearer ${TOKEN}` });
    assert.equal(answer.status, 200, answer.text);
    return answer.text;
  };
  assert.equal((await request(metricsUrl)).status, 401, 'the token is asked for');
  const before = await scrape();
  const workerIds = (text: string, name: string) => [...new Set(samples(text).filter((s) => s.name === name && s.value > 0).map((s) => s.labels.worker))].sort();
  assert.deepEqual(workerIds(before, 'process_cpu_user_seconds_total'), ['1', '2'], 'both workers answered the scrape');
  assert.equal(sample(before, 'captcha_login_sign_ins_total'), 0);

  const redis = createClient({ url: TEST_REDIS_URL });
  await redis.connect();
  t.after(() => redis.close());
  // Each request on a new connection, until pictures were drawn by both workers (the request log names each one's pid).
  const picturesBy = () => new Set(lines.filter((l) => l.msg === 'request completed' && l.req?.path === '/get_validCode_img').map((l) => l.pid));
  let signIns = 0;
  while (picturesBy().size < 2 || signIns < 2) {
    assert.ok(signIns < 10, 'the primary dealt the pictures to both workers');
    const page = await request(`${base}/login`);
    const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.text)?.[1] as string;
    const captchaId = /data-captcha-id="([^"]+)"/.exec(page.text)?.[1] as string;
    const picture = await request(`${base}/get_validCode_img?id=${captchaId}`, 'GET', page.cookies.length ? { cookie: page.cookies.join('; ') } : {});
    assert.equal(picture.status, 200);
    const cookie = [...page.cookies, ...picture.cookies].join('; ');
    const sid = /captcha_login\.sid=s:([^.]+)\./.exec(decodeURIComponent(cookie))?.[1];
    const session = JSON.parse((await redis.get(`${prefix}sess:${sid}`)) ?? '{}') as { captcha?: Record<string, { answer: string }> };
    const body = JSON.stringify({ ...alice, captcha: session.captcha?.[captchaId]?.answer, captchaId });
    const post = await request(`${base}/login`, 'POST', { cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf }, body);
    assert.deepEqual(JSON.parse(post.text), { ok: true, redirect: '/' });
    signIns += 1;
  }
  await waitUntil(() => picturesBy().size === 2, 5_000, 'the log lines of the pictures');

  const after = await scrape();
  assert.equal(sample(after, 'captcha_login_sign_ins_total', { method: 'password', result: 'success' }), signIns);
  assert.equal(sample(after, 'captcha_login_captcha_pictures_total'), signIns);
  assert.equal(sample(after, 'captcha_login_captcha_checks_total', { result: 'right' }), signIns);
  assert.deepEqual(workerIds(after, 'captcha_login_captcha_pictures_total'), ['1', '2'], 'each worker counted its own pictures');
  assert.ok(sample(after, 'captcha_login_store_call_duration_seconds_count', { store: 'users', method: 'findByUsername', outcome: 'ok' }) >= signIns);
  assert.ok(sample(after, 'nodejs_eventloop_lag_p99_seconds', { worker: '1' }) > 0, 'the event-loop lag is measured');
});

test('without METRICS_PORT nothing but the app is served: the process listens on its one port', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'metrics-off-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const { child, lines } = startServer(t, { DATA_DIR: dataDir });
  await waitUntil(() => lines.some((line) => line.msg === 'captcha-login listening'), 30_000, 'the server to listen');
  const base = new URL(lines.find((line) => line.msg === 'captcha-login listening')?.url as string).origin;
  assert.deepEqual(listeningPorts(child.pid as number), [portOf(base)]);
  assert.equal((await request(`${base}/metrics`)).status, 404);
  assert.ok(!lines.some((line) => line.msg === 'metrics listening'));
});

test('one process with METRICS_PORT serves its own registry on 127.0.0.1, and SIGTERM still exits 0 with a scraper connected', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'metrics-one-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const { child, lines } = startServer(t, { DATA_DIR: dataDir, METRICS_PORT: '0' });
  await waitUntil(() => lines.some((line) => line.msg === 'metrics listening') && lines.some((line) => line.msg === 'captcha-login listening'), 30_000, 'both listeners');
  const metricsUrl = lines.find((line) => line.msg === 'metrics listening')?.url as string;
  const base = new URL(lines.find((line) => line.msg === 'captcha-login listening')?.url as string).origin;
  assert.deepEqual(listeningPorts(child.pid as number), [portOf(base), portOf(metricsUrl)].sort((a, b) => a - b));
  assert.equal(new URL(metricsUrl).hostname, '127.0.0.1');
  assert.equal((await request(`${base}/login`)).status, 200);

  // A scraper keeps its connection open between scrapes, as Prometheus does.
  const agent = new http.Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const text = await new Promise<string>((resolve, reject) => {
    http.get(metricsUrl, { agent }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += String(chunk)));
      res.on('end', () => resolve(body));
    }).once('error', reject);
  });
  assert.ok(sample(text, 'process_cpu_user_seconds_total') > 0, "the process's own metrics are served");
  assert.ok(!samples(text).some((s) => 'worker' in s.labels), 'one process labels no worker');
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
