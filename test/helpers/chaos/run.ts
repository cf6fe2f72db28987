/**
 * The chaos run of issue 20: two (or more) app instances (createApp through build(), each with
 * its own connections) on one Redis and one PostgreSQL, both reached only through the
 * fault injector (faults.ts); a bounded mixed load from simulated people (people.ts)
 * while faults come and go from the seed; then the invariants checked against the stores
 * (invariants.ts). The instances share this process, so a test can learn the captcha
 * answers the way tests do, through createApp's generateCode seam: each picture request
 * carries a tag, and the answer made while serving it is kept under that tag
 * (AsyncLocalStorage), as nothing reaches a client.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { build, type TestApp } from '../build.js';
import { tcpProxy } from '../proxy.js';
import { ownRedis, postgresDatabase, type Teardown } from '../services.js';
import { Browser, type ClientWorld, type Exchange } from './browser.js';
import { Aim, inject, planFaults, type FaultPlan, type FaultRecord } from './faults.js';
import { checkInvariants, type Report } from './invariants.js';
import { ORIGIN, People, newHistory, type Person } from './people.js';
import { Random } from './random.js';

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  faults: number;
  /** Simulated people, each doing one thing after another. */
  people?: number;
  instances?: number;
  /** How long a retry waits at most (Retry-After says 5 s). */
  retryCapMs?: number;
  /** Progress lines (the test passes none). */
  log?: (line: string) => void;
}

const REDIS_PREFIX = 'chaos:';
/** After the load stops, how long a person still retries before giving up. */
const SETTLE_MS = 20_000;
/** Per-IP limits stay on (their counters live in Redis and fail with it) but never refuse this load. */
const HIGH_LIMITS = { imagesPerMinute: 100_000, postsPerMinute: 100_000, postsPerHour: 1_000_000, hintsPerMinute: 100_000 };

class Cleanups implements Teardown {
  readonly #fns: Array<() => unknown> = [];
  after(fn: () => unknown): void {
    this.#fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.#fns.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // Cleaning up what is already gone.
      }
    }
  }
}

export async function runChaos(options: ChaosOptions): Promise<Report> {
  const cleanups = new Cleanups();
  try {
    return await run(options, cleanups);
  } finally {
    await cleanups.run();
  }
}

async function run(options: ChaosOptions, cleanups: Cleanups): Promise<Report> {
  const log = options.log ?? (() => {});
  const random = new Random(options.seed);
  const instanceCount = options.instances ?? 2;
  const redis = await ownRedis(cleanups);
  const redisProxy = await tcpProxy(cleanups, { host: '127.0.0.1', port: Number(new URL(redis.url).port) });
  const databaseUrl = await postgresDatabase(cleanups);
  const database = new URL(databaseUrl);
  const pgProxy = await tcpProxy(cleanups, { host: database.hostname, port: Number(database.port || 5432) });
  const proxiedDatabase = new URL(databaseUrl);
  proxiedDatabase.host = `127.0.0.1:${pgProxy.port}`;

  const tags = new AsyncLocalStorage<string>();
  const answers = new Map<string, string>();
  const aim = new Aim();
  const unfinished: string[] = [];
  const apps: TestApp[] = [];
  const urls: string[] = [];
  for (let i = 0; i < instanceCount; i += 1) {
    const app = await build(cleanups, {
      storage: { redisUrl: `redis://127.0.0.1:${redisProxy.port}`, redisKeyPrefix: REDIS_PREFIX, databaseUrl: proxiedDatabase.toString() },
      ipRateLimits: HIGH_LIMITS,
      // The people's own wrong passwords (a hundred a minute and more, by design of the
      // load) would turn attack mode on, and they pay no proof of work: this run is about
      // faults (test/attack/ and npm run attack are about campaigns).
      attackModeOptions: { minFailures: 1_000_000, anyShareFailures: 1_000_000 },
      trustProxyHops: 1,
      publicOrigin: ORIGIN,
      users: (real) => aim.wrap(real),
      onAnswer: (answer) => {
        const tag = tags.getStore();
        if (tag) answers.set(tag, answer);
      },
    });
    // A store failure after an answer was sent (express-session saving at the end) reaches
    // Express's last handler, which prints the stack unless env is 'test'; the run counts
    // its effect instead (a picture whose challenge was not kept).
    app.app.set('env', 'test');
    // build()'s clock moves only when told: here it follows the real one (Redis expires by it).
    const ticker = setInterval(() => app.clock.advance(Date.now() - app.clock.now()), 20);
    cleanups.after(() => clearInterval(ticker));
    const server = http.createServer((req, res) => {
      // A response whose connection closed before it was finished: what a client sees as a reset.
      res.once('close', () => {
        if (!res.writableFinished) unfinished.push(`${req.method} ${req.url?.split('?')[0]} at ${i}: ${res.headersSent ? `${res.statusCode} sent in part` : 'nothing sent'}`);
      });
      const tag = req.headers['x-chaos-tag'];
      tags.run(typeof tag === 'string' ? tag : '', () => void app.app(req, res));
    });
    // Idle keep-alive connections stay open for the whole run: a server closing one just as
    // a client reuses it (Node's 5 s default) would read as a reset the app never caused.
    server.keepAliveTimeout = 10 * 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.after(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    );
    apps.push(app);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  const exchanges: Exchange[] = [];
  let faultActive = false;
  let loadStopped = false;
  let retryDeadline = Number.POSITIVE_INFINITY;
  let tokenRenewals = 0;
  const world: ClientWorld = {
    urls,
    faultActive: () => faultActive,
    record: (exchange) => exchanges.push(exchange),
    takeAnswer: (tag) => {
      const answer = answers.get(tag);
      answers.delete(tag);
      return answer;
    },
    retryCapMs: options.retryCapMs ?? 300,
    noteTokenRenewal: () => (tokenRenewals += 1),
    retryDeadline: () => retryDeadline,
  };

  const history = newHistory();
  const people = new People(history, options.seed.toString(36));
  const peopleCount = options.people ?? 8;
  const persons: Person[] = Array.from({ length: peopleCount }, (_, index) => {
    const own = random.fork(index + 1);
    // A /24 of its own per person: the lockout counts per network.
    return { index, random: own, accounts: [], browser: new Browser(world, `10.${20 + index}.${own.int(0, 255)}.${own.int(1, 254)}`, own.fork(7)) };
  });
  const fuzzer = new Browser(world, '192.0.2.66', random.fork(1_000));
  await fuzzer.open('/login');

  const plan = planFaults(random.fork(2_000), options.faults, options.durationMs);
  const runStart = Date.now();
  log(`seed ${options.seed}: ${instanceCount} instances, ${peopleCount} people, ${options.durationMs / 1000} s, ${plan.length} faults planned`);
  const malformed: Array<{ name: string; status: number; kind: string; error?: string }> = [];
  const faultRandom = random.fork(3_000);
  const injector = inject(plan, {
    targets: { redis, redisProxy, pgProxy },
    aim,
    runStart,
    instances: instanceCount,
    setActive: (active) => (faultActive = active),
    ready: async (instance) => {
      try {
        const res = await fetch(`${urls[instance]}/readyz`, { signal: AbortSignal.timeout(3_000) });
        await res.body?.cancel();
        return res.status === 200;
      } catch {
        return false;
      }
    },
    during: async (fault: FaultPlan) => {
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, fault.durationMs / 3)));
      for (let i = 0; i < 3; i += 1) {
        const shot = malformedRequest(faultRandom, fuzzer.csrf);
        const answer = await fuzzer.send('malformed', shot.spec);
        malformed.push({ name: shot.name, status: answer.status, kind: fault.kind, error: answer.error });
      }
    },
    stopped: () => Date.now() - runStart > options.durationMs,
    done: (record) =>
      log(
        `${((record.startedAt - runStart) / 1000).toFixed(1)} s: ${record.kind}${record.aimed ? ` (aimed ${record.aimed}: ${record.hit ? 'hit' : 'missed'})` : ''} for ${record.endedAt - record.startedAt} ms, ready after ${record.readyMs.map((ms) => ms ?? '-').join('/')} ms`,
      ),
  });

  const load = persons.map(async (person) => {
    while (!loadStopped) {
      try {
        await act(people, person);
      } catch (err) {
        log(`person ${person.index}: ${String(err)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, person.random.between(50, 250)));
    }
  });

  await new Promise((resolve) => setTimeout(resolve, options.durationMs));
  loadStopped = true;
  const faults: FaultRecord[] = await injector;
  retryDeadline = Date.now() + SETTLE_MS;
  await Promise.all(load);
  log(`load done after ${((Date.now() - runStart) / 1000).toFixed(1)} s: ${exchanges.length} requests; checking`);
  // The checks' own sign-ins follow the retry rule too, with a deadline of their own.
  retryDeadline = Date.now() + SETTLE_MS;

  return checkInvariants({
    seed: options.seed,
    durationMs: options.durationMs,
    instances: instanceCount,
    people: persons,
    peopleFlows: people,
    history,
    exchanges,
    faults,
    malformed,
    urls,
    storage: { redisUrl: redis.url, redisKeyPrefix: REDIS_PREFIX, databaseUrl },
    tokenRenewals: () => tokenRenewals,
    unfinished,
    errorLogs: apps.reduce((sum, app) => sum + app.logs().split('\n').filter((line) => line.includes('"level":50')).length, 0),
    teardown: cleanups,
  });
}

/** One step of a person's day, chosen from the seed by what they can do now. */
async function act(people: People, person: Person): Promise<void> {
  const { random } = person;
  const withPasskeys = person.accounts.filter((account) => account.passkeys.length > 0);
  const choice = random.weighted({
    signUp: person.accounts.length === 0 ? 100 : 18,
    signIn: person.accounts.length > 0 ? 36 : 0,
    addPasskey: person.signedIn ? 10 : 0,
    passkeySignIn: withPasskeys.length > 0 ? 12 : 0,
    signOut: person.signedIn ? 14 : 0,
    picture: 8,
  });
  switch (choice) {
    case 'signUp':
      return people.signUp(person);
    case 'signIn': {
      const account = random.pick(person.accounts);
      // Wrong passwords now and then, never so many in a row that the person locks themself out.
      const right = account.wrongSinceSuccess >= 2 || random.chance(0.8);
      return people.signIn(person, account, right, random.chance(0.15));
    }
    case 'addPasskey':
      return people.addPasskey(person);
    case 'passkeySignIn': {
      const account = random.pick(withPasskeys);
      return people.passkeySignIn(person, account, random.pick(account.passkeys));
    }
    case 'signOut':
      return people.signOut(person);
    case 'picture':
      return people.lookAtPicture(person);
  }
}

/** Bad input, as a fuzzer sends it: broken JSON, wrong types, wrong media types, odd paths. */
function malformedRequest(random: Random, csrf: string): { name: string; spec: Parameters<Browser['send']>[1] } {
  const shots: Array<{ name: string; spec: Parameters<Browser['send']>[1] }> = [
    { name: 'login: broken JSON', spec: { path: '/login', raw: { body: '{"username": "a', contentType: 'application/json' } } },
    { name: 'login: wrong types', spec: { path: '/login', json: { username: 5, password: ['x'], captcha: {}, captchaId: 7 } } },
    { name: 'register: JSON null', spec: { path: '/register', raw: { body: 'null', contentType: 'application/json' } } },
    { name: 'register: text/plain', spec: { path: '/register', raw: { body: 'username=a&password=b', contentType: 'text/plain' } } },
    { name: 'passkey sign-in: response a string', spec: { path: '/passkeys/sign-in', json: { response: 'not a credential' } } },
    { name: 'passkey add: no session', spec: { path: '/passkeys', json: { response: { id: '!!' } } } },
    { name: 'login: bad captcha id', spec: { path: '/login', json: { username: 'someone', password: 'long enough password', captcha: 'abcd', captchaId: '../../etc' } } },
    { name: 'login: deep JSON', spec: { path: '/login', raw: { body: `${'['.repeat(5_000)}${']'.repeat(5_000)}`, contentType: 'application/json' } } },
    { name: 'picture: bad slot', spec: { path: '/get_validCode_img?id=%00%ff<script>', headers: { accept: 'image/png' } } },
    { name: 'strength: huge number', spec: { path: '/password-strength', json: { password: 1e308, username: null } } },
  ];
  const shot = random.pick(shots);
  // The form token of the fuzzer's own page half the time, so some get past the CSRF check.
  if (!random.chance(0.5)) return shot;
  return { name: `${shot.name} (with token)`, spec: { ...shot.spec, headers: { ...shot.spec.headers, 'x-csrf-token': csrf } } };
}
