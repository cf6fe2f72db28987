/**
 * `npm run bench`, part 4: the image route on the stores several processes share, and
 * two processes against one, with wrk (Debian's `wrk`, installed by scripts/setup.sh).
 *
 * Model. Three copies of the compiled server (dist/server.js, as `npm start` runs it)
 * listen at once, each on its own port, all with RATE_LIMITS=off:
 *   S  one process on SQLite (the default);
 *   R1 one process on Redis + PostgreSQL (WORKERS=1);
 *   R2 two processes on Redis + PostgreSQL (WORKERS=2).
 * Redis gets a key prefix and PostgreSQL a database of this run's own, removed at the
 * end. Each is loaded with GET /get_validCode_img, cookie kept, in two windows in the
 * order S R1 R2 R2 R1 S after a warm-up each, and the windows are pooled. The load
 * generator is wrk with one thread (an event loop in C, a few per cent of a core at
 * these rates, where autocannon in Node would take most of one): it leaves the server
 * the machine. Its own CPU is measured (bash's `times`) and printed beside each row, as
 * is the servers' CPU (their processes' /proc counters), so a row short of its target
 * can be told apart: servers short of CPU, or the machine busy with something else.
 * Targets: R1 ≥ 0.8 × S (the shared store costs at most a fifth), R2 ≥ 1.5 × R1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';

const IMAGE_PATH = '/get_validCode_img?id=bench';
const CONNECTIONS = 16;
const WINDOW_SECONDS = 5;
const WARMUP_SECONDS = 2;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SCALING_TARGETS = { redisVsSqlite: 0.8, twoVsOne: 1.5 };

export interface ScalingRow {
  key: 'S' | 'R1' | 'R2';
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** CPU of the server's processes (primary and workers) per request, ms. */
  serverCpuMsPerRequest: number;
  /** Cores' worth of CPU the server's processes used. */
  serverCores: number;
  /** Cores' worth of CPU wrk used. */
  wrkCores: number;
  /** Cores' worth of CPU everything else used meanwhile: Redis, PostgreSQL, other people's work. */
  otherCores: number;
}

export type ScalingResult = { rows: ScalingRow[]; note: string } | { skipped: string };

/** Busy CPU seconds of the whole machine so far, from /proc/stat (USER_HZ = 100). */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** Busy CPU seconds of a process and its children (threads included), from /proc. */
function treeCpuSeconds(pid: number): number {
  const ticks = (p: number): number => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      // utime and stime are fields 14 and 15 of stat, 12 and 13 after "pid (comm) ".
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  const children = (p: number): number[] => {
    try {
      return readdirSync(`/proc/${p}/task`).flatMap((task) =>
        readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
      );
    } catch {
      return [];
    }
  };
  const all = [pid, ...children(pid)];
  return all.reduce((sum, p) => sum + ticks(p), 0) / 100;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

interface Server {
  key: ScalingRow['key'];
  label: string;
  base: string;
  child: ChildProcess;
  cookie: string;
}

async function startServer(key: ScalingRow['key'], label: string, rootDir: string, env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(rootDir, 'dist/server.js')], {
    cwd: rootDir,
    env: { PATH: process.env.PATH, PORT: String(port), RATE_LIMITS: 'off', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label}: the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${label}: not ready after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const first = await fetch(base + IMAGE_PATH);
  await first.arrayBuffer();
  const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c?.startsWith('captcha_login.sid='));
  if (first.status !== 200 || !cookie) throw new Error(`${label}: the first picture gave ${first.status} and no session cookie`);
  return { key, label, base, child, cookie };
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 12_000);
  await exited;
  clearTimeout(timer);
}

interface WrkResult {
  requests: number;
  seconds: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  cpuSeconds: number;
}

const toMs = (value: string, unit: string): number => Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);

/** One wrk run; bash's `times` gives wrk's own CPU (its children's line). */
function runWrk(server: Server, seconds: number): WrkResult {
  const command = `wrk -t1 -c${CONNECTIONS} -d${seconds}s --latency -H 'Cookie: ${server.cookie}' '${server.base}${IMAGE_PATH}'; times`;
  const run = spawnSync('bash', ['-c', command], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr}`);
  const out = run.stdout;
  const number = (pattern: RegExp): number => Number(pattern.exec(out)?.[1] ?? NaN);
  const latency = (p: string): number => {
    const match = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(out);
    return match ? toMs(match[1] as string, match[2] as string) : NaN;
  };
  const timesLines = out.trim().split('\n').slice(-1)[0]?.match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpuSeconds = timesLines.reduce((sum, t) => {
    const [, m, s] = /(\d+)m([\d.]+)s/.exec(t) as RegExpExecArray;
    return sum + Number(m) * 60 + Number(s);
  }, 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: number(/(\d+) requests in/),
    seconds: number(/requests in ([\d.]+)s/),
    failures: (number(/Non-2xx or 3xx responses: (\d+)/) || 0) + (errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
    p50Ms: latency('50'),
    p99Ms: latency('99'),
    cpuSeconds,
  };
}

async function sharedStoresAnswer(): Promise<string | undefined> {
  const redis = createClient({ url: REDIS_URL, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    return `Redis at ${REDIS_URL} does not answer (${(err as Error).message}); bash scripts/start-services.sh starts it`;
  } finally {
    if (redis.isOpen) redis.destroy();
  }
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    return `PostgreSQL at ${DATABASE_URL} does not answer (${(err as Error).message}); bash scripts/start-services.sh starts it`;
  } finally {
    await client.end().catch(() => {});
  }
  return undefined;
}

export async function benchScaling(rootDir: string, log: (line: string) => void): Promise<ScalingResult> {
  if (spawnSync('wrk', ['--version']).error) return { skipped: 'wrk is not installed (Debian: apt-get install wrk; scripts/setup.sh installs it)' };
  if (!existsSync(path.join(rootDir, 'dist/server.js'))) return { skipped: 'dist/ is missing: run npm run build (npm run bench does)' };
  const unavailable = await sharedStoresAnswer();
  if (unavailable) return { skipped: unavailable };

  const id = `${process.pid}_${Date.now().toString(36)}`;
  const prefix = `captcha-login-bench:${id}:`;
  const database = `captcha_login_bench_${id}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const databaseUrl = new URL(DATABASE_URL);
  databaseUrl.pathname = `/${database}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'captcha-login-bench-scaling-'));
  const secret = 'bench-secret-bench-secret-bench-secret-0123';
  const shared = { REDIS_URL, REDIS_KEY_PREFIX: prefix, DATABASE_URL: databaseUrl.toString(), SESSION_SECRET: secret };
  const servers: Server[] = [];
  try {
    servers.push(await startServer('S', 'S: one process, SQLite', rootDir, { DATA_DIR: path.join(dataDir, 's'), SESSION_SECRET: secret }));
    servers.push(await startServer('R1', 'R1: one process, Redis + PostgreSQL', rootDir, { ...shared, DATA_DIR: path.join(dataDir, 'r1'), WORKERS: '1' }));
    servers.push(await startServer('R2', 'R2: WORKERS=2, Redis + PostgreSQL', rootDir, { ...shared, DATA_DIR: path.join(dataDir, 'r2'), WORKERS: '2' }));
    log(`  scaling: warming up each server for ${WARMUP_SECONDS} s…\n`);
    for (const server of servers) runWrk(server, WARMUP_SECONDS);
    const totals = new Map(servers.map((s) => [s.key, { requests: 0, seconds: 0, failures: 0, p50: [] as number[], p99: [] as number[], serverCpu: 0, wrkCpu: 0, machine: 0 }]));
    const order = [...servers, ...[...servers].reverse()];
    for (const [i, server] of order.entries()) {
      log(`  scaling window ${i + 1}/${order.length}: ${server.label}, ${WINDOW_SECONDS} s…\n`);
      const before = treeCpuSeconds(server.child.pid as number);
      const machineBefore = machineBusySeconds();
      const result = runWrk(server, WINDOW_SECONDS);
      const total = totals.get(server.key) as NonNullable<ReturnType<typeof totals.get>>;
      total.machine += machineBusySeconds() - machineBefore;
      total.serverCpu += treeCpuSeconds(server.child.pid as number) - before;
      total.requests += result.requests;
      total.seconds += result.seconds;
      total.failures += result.failures;
      total.p50.push(result.p50Ms);
      total.p99.push(result.p99Ms);
      total.wrkCpu += result.cpuSeconds;
    }
    const rows = servers.map((server): ScalingRow => {
      const t = totals.get(server.key) as NonNullable<ReturnType<typeof totals.get>>;
      return {
        key: server.key,
        label: server.label,
        requestsPerSecond: t.requests / t.seconds,
        // wrk reports percentiles per run; the windows' own are averaged (each window is equally long).
        p50Ms: t.p50.reduce((a, b) => a + b, 0) / t.p50.length,
        p99Ms: t.p99.reduce((a, b) => a + b, 0) / t.p99.length,
        failures: t.failures,
        serverCpuMsPerRequest: (t.serverCpu * 1000) / Math.max(1, t.requests),
        serverCores: t.serverCpu / t.seconds,
        wrkCores: t.wrkCpu / t.seconds,
        otherCores: Math.max(0, t.machine - t.serverCpu - t.wrkCpu) / t.seconds,
      };
    });
    return {
      rows,
      note: `wrk -t1 -c${CONNECTIONS}, GET ${IMAGE_PATH} with the session cookie kept, ${2 * WINDOW_SECONDS} s each (two ${WINDOW_SECONDS} s windows, order S R1 R2 R2 R1 S, after ${WARMUP_SECONDS} s warm-up each), compiled servers with RATE_LIMITS=off`,
    };
  } finally {
    await Promise.all(servers.map(stopServer));
    rmSync(dataDir, { recursive: true, force: true });
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    await admin.end();
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
    await redis.close();
  }
}
