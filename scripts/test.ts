/**
 * `npm test`: runs every test file under test/ (or the files named on the command line)
 * with node's test runner, on Redis and PostgreSQL instances of the run's own, so the suite
 * needs no running services and never touches the machine's: a redis-server on a free port
 * (nothing saved) and a PostgreSQL cluster made by initdb in a temporary folder (no fsync),
 * both stopped and deleted when the run ends. TEST_REDIS_URL / TEST_DATABASE_URL name other
 * instances to use instead (then nothing is started for that one). The binaries come from
 * Debian's redis-server and postgresql packages (scripts/setup.sh installs them).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const cleanups: Array<() => void> = [];
function cleanUp(): void {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch (err) {
      console.error('test: cleaning up failed:', err);
    }
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.once('error', reject);
  });
}

/** Resolves once `child` printed `ready`; rejects when it exits first. */
function waitFor(child: ChildProcess, ready: RegExp, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready:\n${output}`)));
  });
}

async function startRedis(): Promise<string> {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => void redis.kill('SIGKILL'));
  await waitFor(redis, /Ready to accept connections/, 'redis-server');
  return `redis://127.0.0.1:${port}`;
}

/** The newest installed PostgreSQL's binaries (Debian keeps each major version apart). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('test: PostgreSQL is not installed (bash scripts/setup.sh installs it), and TEST_DATABASE_URL is not set');
  return path.join(root, newest, 'bin');
}

async function startPostgres(): Promise<string> {
  const bin = postgresBin();
  const dir = mkdtempSync(path.join(tmpdir(), 'captcha-login-pg-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // PostgreSQL refuses to run as root: then the cluster belongs to the postgres user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  // setpriv runs the program itself as postgres (no fork), so signals reach the server.
  const command = (file: string, args: string[]): [string, string[]] =>
    asRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', file, ...args]] : [file, args];
  const data = path.join(dir, 'data');
  const init = spawnSync(...command(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']), { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`test: initdb failed:\n${init.stdout}${init.stderr}`);
  const port = await freePort();
  const settings = ['-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  const postgres = spawn(...command(path.join(bin, 'postgres'), ['-D', data, ...settings]), { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => {
    // SIGQUIT: immediate shutdown; the folder is deleted next anyway.
    postgres.kill('SIGQUIT');
  });
  await waitFor(postgres, /ready to accept connections/, 'postgres');
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

function testFiles(): string[] {
  const named = process.argv.slice(2);
  if (named.length > 0) return named;
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.test.ts')) found.push(file);
    }
  };
  walk('test');
  return found.sort();
}

async function main(): Promise<number> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(130);
    });
  }
  const env = { ...process.env };
  env.TEST_REDIS_URL ??= await startRedis();
  env.TEST_DATABASE_URL ??= await startPostgres();
  const runner = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...testFiles()], { stdio: 'inherit', env });
  return new Promise((resolve) => runner.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

main()
  .then((code) => {
    cleanUp();
    process.exit(code);
  })
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    cleanUp();
    process.exit(1);
  });
