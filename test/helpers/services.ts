/**
 * The machine's Redis and PostgreSQL for tests: each test gets its own Redis key prefix
 * and its own PostgreSQL database, deleted when the test ends, so runs never see each
 * other's data. npm test (scripts/test.ts) starts private instances and names them in
 * TEST_REDIS_URL and TEST_DATABASE_URL (a database the test may create others from); run
 * alone, a test file falls back to the machine's (127.0.0.1:6379 and :5432).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { createClient } from 'redis';

/** What the helpers need of a test: somewhere to put their clean-up (a TestContext, or the chaos script's own list). */
export interface Teardown {
  after(fn: () => unknown): void;
}

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh key prefix on the test Redis; its keys are deleted after the test. */
export function redisPrefix(t: Teardown): string {
  const prefix = `captcha-login-test:${process.pid}-${randomBytes(6).toString('hex')}:`;
  t.after(async () => {
    const client = createClient({ url: TEST_REDIS_URL });
    await client.connect();
    try {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
    } finally {
      await client.close();
    }
  });
  return prefix;
}

async function asAdmin(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Creates an empty database for this test (dropped after it) and returns its URL. */
export async function postgresDatabase(t: Teardown): Promise<string> {
  const name = `captcha_login_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await asAdmin(`CREATE DATABASE ${name}`);
  t.after(() => asAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface OwnRedis {
  url: string;
  stop: () => Promise<void>;
  start: () => Promise<void>;
  /** SIGSTOP: connections are still accepted (by the kernel) but nothing is answered, as a hung server. */
  freeze: () => void;
  /** SIGCONT: the server answers again, what waited included. */
  thaw: () => void;
}

/** A redis-server of this test's own on a free port, which the test may stop and start (never the shared one). */
export async function ownRedis(t: Teardown): Promise<OwnRedis> {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  let child: ChildProcess | undefined;
  const start = async () => {
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
    child = server;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      server.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
  };
  const stop = async () => {
    const server = child;
    child = undefined;
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
  };
  const signal = (name: NodeJS.Signals) => {
    if (!child || !child.kill(name)) throw new Error(`redis-server is not running to ${name}`);
  };
  await start();
  t.after(stop);
  return { url: `redis://127.0.0.1:${port}`, stop, start, freeze: () => signal('SIGSTOP'), thaw: () => signal('SIGCONT') };
}
