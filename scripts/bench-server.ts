/**
 * The server half of `npm run bench`, run as a child process so that the load generator
 * (autocannon, in the parent) and the server do not share an event loop.
 *
 * One HTTP server, three apps, so that every figure is measured by the same process on
 * the same machine state:
 *   GET /hello                    hello world: the ceiling of Express on this machine;
 *   GET /naive/get_validCode_img  a seed-tutorial-style endpoint: express-session on a
 *                                 MemoryStore, the seed-style renderer, synchronous PNG
 *                                 encoding on the event loop;
 *   GET /floor/get_validCode_img  the stack's floor: the app's session middleware on its
 *                                 own SQLite stores (openStores, second folder), storing a fresh challenge
 *                                 and sending one PNG drawn at start, so nothing is drawn;
 *   everything else               the real app from composeApp() on a fresh temporary
 *                                 DATA_DIR (real SQLite session store).
 *
 * Model of a measurement: the parent measures each target in several windows, sending
 * {cmd:'start', key} before and {cmd:'stop'} after each; the server adds what only it
 * can see to that key's totals: requests it received, its CPU time (process-wide, so the
 * libuv pool's PNG encoding counts), event-loop utilisation and delay, and how many
 * session-store calls and SQL statements the requests caused and how long the latter
 * took. {cmd:'report'} returns the totals per key. Counting wraps the store class and
 * better-sqlite3's Statement prototype here, in the bench process only; src/ is untouched.
 *
 * Exits on SIGTERM, SIGINT or when the parent goes away: closes the server and the
 * database, then deletes the temporary DATA_DIR.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHistogram, performance, type EventLoopUtilization, type RecordableHistogram } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import express from 'express';
import session from 'express-session';
import { composeApp } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { CAPTCHA_DEFAULTS } from '../src/captcha/captcha.js';
import { issueChallenge } from '../src/captcha/challenges.js';
import { createCodeGenerator } from '../src/captcha/code.js';
import { cryptoRandom } from '../src/captcha/random.js';
import { renderCaptchaSync } from '../src/captcha/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/captcha/render-options.js';
import { sessionMiddleware } from '../src/session/middleware.js';
import { SESSION_TIMEOUT_DEFAULTS } from '../src/session/timeouts.js';
import { openStores } from '../src/storage/index.js';
import { SqliteSessionStore } from '../src/storage/sqlite/session-store.js';
import { renderSeedStyle } from './bench-render.js';

/** What the server saw of one target over all its windows. Per-request division is the parent's. */
export interface TargetStats {
  /** Requests received, by route family. */
  requests: Record<RouteFamily, number>;
  /** Wall time of the windows, ms. */
  elapsedMs: number;
  /** User + system CPU of the whole server process (all threads), ms. */
  cpuMs: number;
  /** Share of the windows the event loop was busy, 0..1. */
  eventLoopUtilisation: number;
  /** How late a 1 ms timer fired: 99th percentile and worst, ms (timer period removed). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Session-store method calls, by store and method. */
  storeCalls: Record<string, number>;
  /** SQL statements executed through better-sqlite3, by leading keyword. */
  sqlStatements: Record<string, number>;
  /** Time spent inside those statements (on the event loop): total and slowest, ms. */
  sqlMs: number;
  sqlMaxMs: number;
}

export type RouteFamily = 'hello' | 'naive' | 'floor' | 'app';

export type ParentMessage = { cmd: 'start'; key: string } | { cmd: 'stop' } | { cmd: 'report' };
export type ChildMessage =
  | { type: 'ready'; port: number; dataDir: string }
  | { type: 'started' }
  | { type: 'stopped' }
  | { type: 'report'; stats: Record<string, TargetStats> };

/** One target's running totals; the wrappers below always add to `current`. */
interface Totals {
  requests: Record<RouteFamily, number>;
  storeCalls: Record<string, number>;
  sqlStatements: Record<string, number>;
  sqlTime: { totalNs: number; maxNs: number };
  elapsedNs: number;
  cpuMicros: number;
  elu: { active: number; idle: number };
  /** Excess delay of each 1 ms timer tick, ns; a plain histogram, so windows pool exactly. */
  loopDelay: RecordableHistogram;
}

const LOOP_TIMER_MS = 1;

function newTotals(): Totals {
  return {
    requests: { hello: 0, naive: 0, floor: 0, app: 0 },
    storeCalls: {},
    sqlStatements: {},
    sqlTime: { totalNs: 0, maxNs: 0 },
    elapsedNs: 0,
    cpuMicros: 0,
    elu: { active: 0, idle: 0 },
    loopDelay: createHistogram(),
  };
}

const totals = new Map<string, Totals>();
/** Where calls are counted: a measured target's totals, or a scratch sink between windows. */
let current = newTotals();

function bump(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;

/** Replaces target[name] with a wrapper that counts calls under `label` before delegating. */
function countCalls(target: object, name: string, label: string): void {
  const slots = target as Record<string, AnyMethod>;
  const original = slots[name];
  if (typeof original !== 'function') throw new Error(`bench-server: ${label} is not a method`);
  slots[name] = function (this: unknown, ...args: unknown[]) {
    bump(current.storeCalls, label);
    return original.apply(this, args);
  };
}

// The store class composeApp() instantiates: wrapping its prototype counts every call
// express-session makes, without reaching into compose.ts.
for (const method of ['get', 'set', 'touch', 'destroy']) {
  countCalls(SqliteSessionStore.prototype, method, `sqlite.${method}`);
}

// Every prepared statement of every database in this process shares one prototype.
{
  const probe = new Database(':memory:');
  const statementPrototype = Object.getPrototypeOf(probe.prepare('SELECT 1')) as object;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const slots = statementPrototype as Record<string, AnyMethod>;
    const original = slots[method];
    if (typeof original !== 'function') throw new Error(`bench-server: Statement.${method} is not a method`);
    slots[method] = function (this: unknown, ...args: unknown[]) {
      const source = (this as { source: string }).source;
      bump(current.sqlStatements, /^\s*(\w+)/.exec(source)?.[1]?.toUpperCase() ?? '?');
      // better-sqlite3 is synchronous: this time is spent with the event loop blocked.
      const start = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const ns = Number(process.hrtime.bigint() - start);
        current.sqlTime.totalNs += ns;
        current.sqlTime.maxNs = Math.max(current.sqlTime.maxNs, ns);
      }
    };
  }
}

/** A seed-tutorial-style answer: five characters from Math.random, as such tutorials do. */
function naiveAnswer(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let answer = '';
  for (let i = 0; i < 5; i += 1) answer += alphabet[Math.floor(Math.random() * alphabet.length)];
  return answer;
}

const mathRandom = { int: (max: number) => Math.floor(Math.random() * max), float: () => Math.random() };

function naiveApp(): express.Express {
  const store = new session.MemoryStore();
  for (const method of ['get', 'set', 'touch', 'destroy']) countCalls(store, method, `memory.${method}`);
  const naive = express();
  naive.use(session({ secret: 'naive-baseline-secret-not-for-production', resave: false, saveUninitialized: true, store }));
  naive.get('/get_validCode_img', (req, res) => {
    const answer = naiveAnswer();
    Object.assign(req.session, { validCode: answer });
    // renderSeedStyle ends with the synchronous canvas.toBuffer(): encoding on the event loop.
    res.type('png').send(renderSeedStyle(answer, mathRandom));
  });
  return naive;
}

/**
 * What every image request pays before any drawing: the app's own session middleware and
 * SQLite store (in a second data folder, same settings), a challenge of the real shape
 * stored in the session, and a PNG of the default design drawn once at start.
 */
async function floorApp(dataDir: string): Promise<{ app: express.Express; close: () => Promise<void> }> {
  const stores = await openStores({ dataDir: path.join(dataDir, 'floor') });
  const store = stores.sessionStore;
  const png = renderCaptchaSync('ACEFH', DEFAULT_RENDER_OPTIONS, cryptoRandom);
  const nextAnswer = createCodeGenerator();
  const floor = express();
  floor.use(
    sessionMiddleware({
      store,
      secret: randomBytes(32).toString('hex'),
      secureCookies: false,
      timeouts: SESSION_TIMEOUT_DEFAULTS,
    }),
  );
  floor.get('/get_validCode_img', (req, res) => {
    req.session.captcha = issueChallenge(req.session.captcha, 'bench', nextAnswer(), Date.now(), CAPTCHA_DEFAULTS.maxOutstanding);
    res.set({ 'Content-Type': 'image/png', 'Cache-Control': 'no-store', 'Content-Length': String(png.length) });
    res.end(png);
  });
  return {
    app: floor,
    close: () => stores.close(),
  };
}

function summarise(t: Totals): TargetStats {
  const ms = (ns: number): number => (t.loopDelay.count === 0 ? 0 : ns / 1e6);
  return {
    requests: t.requests,
    elapsedMs: t.elapsedNs / 1e6,
    cpuMs: t.cpuMicros / 1000,
    eventLoopUtilisation: t.elu.active / Math.max(1, t.elu.active + t.elu.idle),
    loopDelayP99Ms: ms(t.loopDelay.percentile(99)),
    loopDelayMaxMs: ms(t.loopDelay.max),
    storeCalls: t.storeCalls,
    sqlStatements: t.sqlStatements,
    sqlMs: t.sqlTime.totalNs / 1e6,
    sqlMaxMs: t.sqlTime.maxNs / 1e6,
  };
}

/**
 * Measures event-loop blocking the way monitorEventLoopDelay does (a timer that should
 * fire every LOOP_TIMER_MS), but records into the given histogram only while running,
 * so a pause between two windows is not mistaken for a 10-second stall.
 */
function loopDelaySampler(): { start: (into: RecordableHistogram) => void; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  return {
    start(into) {
      let last = process.hrtime.bigint();
      const tick = (): void => {
        const now = process.hrtime.bigint();
        into.record(Math.max(1, Number(now - last) - LOOP_TIMER_MS * 1e6));
        last = now;
        timer = setTimeout(tick, LOOP_TIMER_MS);
      };
      timer = setTimeout(tick, LOOP_TIMER_MS);
    },
    stop() {
      clearTimeout(timer);
    },
  };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'captcha-login-bench-'));
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, RATE_LIMITS: 'off', LOG_LEVEL: 'silent' });
  const composed = await composeApp(config, createLogger(config.logLevel));

  const outer = express();
  outer.disable('x-powered-by');
  // Requests still in flight when the load generator stops belong to the window that
  // sent them: windows open and close only when none is in flight.
  let inFlight = 0;
  const idleWaiters: Array<() => void> = [];
  const whenIdle = (then: () => void): void => {
    if (inFlight === 0) then();
    else idleWaiters.push(then);
  };
  outer.use((req, res, next) => {
    bump(current.requests, req.path === '/hello' ? 'hello' : req.path.startsWith('/naive/') ? 'naive' : req.path.startsWith('/floor/') ? 'floor' : 'app');
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) for (const waiter of idleWaiters.splice(0)) waiter();
    });
    next();
  });
  outer.get('/hello', (_req, res) => {
    res.send('Hello World!');
  });
  outer.use('/naive', naiveApp());
  const floor = await floorApp(dataDir);
  outer.use('/floor', floor.app);
  outer.use(composed.app);

  let window: { start: bigint; cpu: NodeJS.CpuUsage; elu: EventLoopUtilization } | undefined;

  const send = (message: ChildMessage): void => {
    process.send?.(message);
  };

  const sampler = loopDelaySampler();
  process.on('message', (message: ParentMessage) => {
    if (message.cmd === 'start') {
      whenIdle(() => {
        current = totals.get(message.key) ?? newTotals();
        totals.set(message.key, current);
        sampler.start(current.loopDelay);
        window = { start: process.hrtime.bigint(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
        send({ type: 'started' });
      });
    } else if (message.cmd === 'stop') {
      whenIdle(() => {
        if (!window) return;
        sampler.stop();
        const cpu = process.cpuUsage(window.cpu);
        const elu = performance.eventLoopUtilization(window.elu);
        current.elapsedNs += Number(process.hrtime.bigint() - window.start);
        current.cpuMicros += cpu.user + cpu.system;
        current.elu.active += elu.active;
        current.elu.idle += elu.idle;
        current = newTotals();
        window = undefined;
        send({ type: 'stopped' });
      });
    } else {
      send({ type: 'report', stats: Object.fromEntries([...totals].map(([key, t]) => [key, summarise(t)])) });
    }
  });

  const server = outer.listen(0, '127.0.0.1', (err?: Error) => {
    if (err) throw err;
    send({ type: 'ready', port: (server.address() as AddressInfo).port, dataDir });
  });

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    server.close(() => {
      void Promise.all([composed.close(), floor.close()]).then(() => {
        rmSync(dataDir, { recursive: true, force: true });
        // Dropping the IPC channel is the last handle; the process then exits by itself.
        if (process.connected) process.disconnect();
      });
    });
    server.closeAllConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('disconnect', shutdown);
}

await main();
