/**
 * `npm run attack`: a credential-stuffing campaign against the compiled server, measured
 * from outside, with two people signing in meanwhile (issue 17's table).
 *
 * 1. builds the checkout (`npm run build`, unless --no-build) and makes a temporary
 *    DATA_DIR; with --redis/--database the shared back-ends (a Redis key prefix and
 *    account names of this run's own);
 * 2. makes N accounts with real passwords at the production scrypt cost (accounts.ts)
 *    and the bot's list of P pairs;
 * 3. starts the server (serve.ts: the checkout's dist wiring, one process, on a free port
 *    of 127.0.0.1, configured from this environment as `node dist/server.js` would be),
 *    the bot (bot.ts, under `nice -n 19`) and two people (person.ts), each a process;
 * 4. the person on a known device signs in once; then both people sign in every 10 s
 *    alone for the warm-up (the "before" figures of the same run), then the bot attacks
 *    for the duration while they go on;
 * 5. prints the table (report.ts) and, with --json FILE, writes the figures.
 * Every loop stops at its deadline by itself; every child is killed when this process
 * ends, however it ends. Only loopback addresses are used.
 *
 * Usage: npm run attack -- [--accounts 200] [--pairs 3000] [--right-share 0.01]
 *   [--workers 32] [--one-network] [--solver-accuracy 0.95] [--duration 180] [--warmup 30]
 *   [--redis URL] [--database URL] [--server-dir DIR] [--no-build] [--json FILE]
 *   [--log-level info] [--keep]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeAccounts, makePairs, storeAccounts } from './accounts.js';
import type { BotResult, BotStart } from './bot.js';
import type { PersonCommand, PersonMessage } from './person.js';
import { figuresOf, formatTable, type RunFacts } from './report.js';
import type { HarnessMessage } from './serve.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT_DIR = path.resolve(HERE, '..', '..');

interface Options {
  accounts: number;
  pairs: number;
  rightShare: number;
  workers: number;
  oneNetwork: boolean;
  accuracy: number;
  duration: number;
  warmup: number;
  redis?: string;
  database?: string;
  serverDir: string;
  build: boolean;
  json?: string;
  logLevel: string;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      accounts: { type: 'string', default: '200' },
      pairs: { type: 'string', default: '3000' },
      'right-share': { type: 'string', default: '0.01' },
      workers: { type: 'string', default: '32' },
      'one-network': { type: 'boolean', default: false },
      'solver-accuracy': { type: 'string', default: '0.95' },
      duration: { type: 'string', default: '180' },
      warmup: { type: 'string', default: '30' },
      redis: { type: 'string' },
      database: { type: 'string' },
      'server-dir': { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      json: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      keep: { type: 'boolean', default: false },
    },
  });
  const number = (name: keyof typeof values, min: number, max: number, integer = true): number => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new Error(`--${name} takes ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
    }
    return value;
  };
  if ((values.redis === undefined) !== (values.database === undefined)) throw new Error('--redis and --database go together (the shared back-ends)');
  return {
    accounts: number('accounts', 3, 100_000),
    pairs: number('pairs', 1, 1_000_000),
    rightShare: number('right-share', 0, 1, false),
    workers: number('workers', 1, 1024),
    oneNetwork: values['one-network'],
    accuracy: number('solver-accuracy', 0, 1, false),
    duration: number('duration', 5, 3600),
    warmup: number('warmup', 0, 3600),
    redis: values.redis,
    database: values.database,
    serverDir: path.resolve(values['server-dir'] ?? ROOT_DIR),
    build: !values['no-build'],
    json: values.json,
    logLevel: values['log-level'],
    keep: values.keep,
  };
}

/** Every child, killed when this process ends in any way; the run folder, removed on a signal. */
const children = new Set<ChildProcess>();
let runFolder: string | undefined;
function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killChildren();
    if (runFolder) rmSync(runFolder, { recursive: true, force: true });
    process.exit(130);
  });
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv, output: 'inherit' | number = 'inherit'): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT_DIR, env, stdio: ['ignore', output, output, 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The child's next message of this type; rejects if the child exits first. */
function next<T extends { type: string }>(child: ChildProcess, type: T['type'], what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => reject(new Error(`${what} exited (code ${code}) before sending '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const tsx = (file: string): string[] => ['--import', 'tsx', path.join(HERE, file)];
const since = (time: number): string => `${((Date.now() - time) / 1000).toFixed(1)} s`;
const at = (time: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const runId = randomBytes(3).toString('hex');
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'captcha-login-attack-'));
  runFolder = runDir;
  const dataDir = path.join(runDir, 'data');
  const serverLog = path.join(runDir, 'server.log');
  let succeeded = false;
  try {
    let phase = Date.now();
    if (options.build) {
      console.log(`building ${options.serverDir} ...`);
      const built = spawnSync('npm', ['run', 'build'], { cwd: options.serverDir, encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}${built.stderr}`);
      console.log(`built in ${since(phase)}`);
    }
    const storage = {
      redisUrl: options.redis,
      redisKeyPrefix: options.redis ? `captcha-login-attack:${runId}:` : undefined,
      databaseUrl: options.database,
    };
    const backEnd = options.redis ? 'Redis + PostgreSQL' : 'SQLite';

    const accounts = makeAccounts(options.accounts, runId);
    const pairs = makePairs(accounts, options.pairs, options.rightShare, runId);
    console.log(`making ${accounts.length} accounts at the production scrypt cost (${backEnd}) ...`);
    phase = Date.now();
    await storeAccounts(options.serverDir, dataDir, storage, accounts);
    console.log(`made in ${since(phase)}`);
    phase = Date.now();

    const serverEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ATTACK_SERVER_DIR: options.serverDir,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: options.logLevel,
      WORKERS: '1',
      ...(options.redis ? { REDIS_URL: options.redis, REDIS_KEY_PREFIX: storage.redisKeyPrefix, DATABASE_URL: options.database } : {}),
    };
    if (!options.redis) {
      delete serverEnv.REDIS_URL;
      delete serverEnv.DATABASE_URL;
    }
    const server = start(process.execPath, tsx('serve.ts'), serverEnv, openSync(serverLog, 'a'));
    const { port } = await next<Extract<HarnessMessage, { type: 'ready' }>>(server, 'ready', `the server (log: ${serverLog})`);
    const base = `http://127.0.0.1:${port}`;
    const serverCpu = () => {
      const stats = next<Extract<HarnessMessage, { type: 'stats' }>>(server, 'stats', 'the server');
      server.send({ type: 'stats' });
      return stats;
    };

    const clientEnv = { ...process.env };
    const bot = start('nice', ['-n', '19', process.execPath, ...tsx('bot.ts')], clientEnv);
    const known = start(process.execPath, tsx('person.ts'), clientEnv);
    const fresh = start(process.execPath, tsx('person.ts'), clientEnv);
    await Promise.all([next(bot, 'ready', 'the bot'), next(known, 'ready', 'the known-device person'), next(fresh, 'ready', 'the new-device person')]);

    const prime = async (child: ChildProcess, command: PersonCommand, what: string) => {
      const primed = next<Extract<PersonMessage, { type: 'primed' }>>(child, 'primed', what);
      child.send(command);
      const answer = await primed;
      if (answer.ok) return answer;
      const { unmapped } = await serverCpu();
      const why = unmapped > 0 ? `; ${unmapped} pictures were served without a learnt answer: does ${options.serverDir}/dist/compose.js take the generateCode override?` : '';
      throw new Error(`${what} could not sign in before the attack: ${answer.detail ?? ''}${why} (server log: ${serverLog})`);
    };
    const { deviceCookie } = await prime(known, { type: 'prime', base, kind: 'known', account: accounts[0]! }, 'the known-device person');
    await prime(fresh, { type: 'prime', base, kind: 'new', account: accounts[1]! }, 'the new-device person');

    console.log(`server, bot and people started, first sign-in done in ${since(phase)}`);
    const t0 = Date.now() + 1_000;
    const attackAt = t0 + options.warmup * 1000;
    const endAt = attackAt + options.duration * 1000;
    console.log(`people alone for ${options.warmup} s, then ${options.workers} bot workers for ${options.duration} s (until ${new Date(endAt).toISOString()})`);
    const botResult = next<BotResult>(bot, 'result', 'the bot');
    const knownResult = next<Extract<PersonMessage, { type: 'result' }>>(known, 'result', 'the known-device person');
    const freshResult = next<Extract<PersonMessage, { type: 'result' }>>(fresh, 'result', 'the new-device person');
    // Awaited together below; a child that dies early must not end this process as an unhandled rejection meanwhile.
    for (const result of [botResult, knownResult, freshResult]) result.catch(() => {});
    bot.send({ type: 'start', base, workers: options.workers, oneNetwork: options.oneNetwork, accuracy: options.accuracy, attackAt, endAt, maxWaitMs: 60_000, pairs } satisfies BotStart);
    known.send({ type: 'run', t0, endAt } satisfies PersonCommand);
    fresh.send({ type: 'run', t0, endAt } satisfies PersonCommand);

    await at(t0);
    const loadStart = os.loadavg();
    const cpu0 = await serverCpu();
    await at(attackAt);
    const cpu1 = await serverCpu();
    await at(endAt);
    const cpu2 = await serverCpu();
    const loadEnd = os.loadavg();
    const [botFacts, knownFacts, freshFacts] = await Promise.all([botResult, knownResult, freshResult]);
    const harness = await serverCpu();

    const facts: RunFacts = {
      date: new Date(t0).toISOString(),
      backEnd,
      serverDir: options.serverDir,
      accounts: options.accounts,
      pairs: pairs.length,
      rightPairs: pairs.filter((p) => p.right).length,
      workers: options.workers,
      accuracy: options.accuracy,
      warmupSeconds: options.warmup,
      attackSeconds: options.duration,
      attackAt,
      bot: botFacts,
      known: knownFacts.attempts,
      fresh: freshFacts.attempts,
      serverCpu: { warmup: (cpu1.cpuMicros - cpu0.cpuMicros) / 1e6, attack: (cpu2.cpuMicros - cpu1.cpuMicros) / 1e6 },
      harness: { answers: harness.answers, unmapped: harness.unmapped },
      deviceCookie,
      load: { start: loadStart, end: loadEnd },
      cpus: os.cpus().length,
    };
    const figures = figuresOf(facts);
    console.log(`\n${formatTable(facts, figures)}`);
    if (options.json) {
      const people = { known: { attempts: facts.known, counts: knownFacts.counts }, fresh: { attempts: facts.fresh, counts: freshFacts.counts } };
      writeFileSync(options.json, `${JSON.stringify({ facts: { ...facts, known: undefined, fresh: undefined }, figures, people }, null, 2)}\n`);
    }

    server.kill('SIGTERM');
    await new Promise((resolve) => (server.exitCode === null ? server.once('exit', resolve) : resolve(undefined)));
    succeeded = true;
  } finally {
    killChildren();
    if (succeeded && !options.keep) rmSync(runDir, { recursive: true, force: true });
    else console.error(`run folder kept: ${runDir}`);
  }
}

main().catch((err: unknown) => {
  console.error(`attack: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
