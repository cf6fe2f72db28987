/**
 * WORKERS=N: N processes of the server on one port (node:cluster), to use every core of
 * one machine. The primary only forks and watches; each worker is the whole server
 * (stores, app, graceful shutdown of its own), and the primary hands new connections to
 * them in turn.
 *
 * Several processes keep the app's guarantees only when what they count and remember is
 * shared, so WORKERS above 1 is refused unless REDIS_URL (sessions, limits, lockout,
 * spent challenges) and DATABASE_URL (accounts) are both set: on SQLite and in-process
 * counters each worker would keep its own limits and one-time ledger.
 *
 * The primary passes SIGTERM and SIGINT on to the workers and exits once they all have
 * (each finishes its requests in flight and closes its stores), by SHUTDOWN_DEADLINE_MS
 * in any case. A worker that dies while not asked to is replaced, so a crash costs one
 * process's requests in flight, not a core; a worker that keeps dying (MAX_DEATHS within
 * DEATH_WINDOW_MS, as when a store refuses it at start) stops the whole server with
 * exit code 1 rather than fork for ever.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { z } from 'zod';
import { envInteger } from './options.js';

export const workersEnv = z
  .object({
    WORKERS: envInteger(1, 64).default(1),
    REDIS_URL: z.string().optional(),
    DATABASE_URL: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    const missing = (['REDIS_URL', 'DATABASE_URL'] as const).filter((name) => env[name] === undefined);
    if (env.WORKERS > 1 && missing.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKERS'],
        message:
          `WORKERS=${env.WORKERS} needs shared stores: set REDIS_URL and DATABASE_URL (missing: ${missing.join(', ')}); ` +
          'on SQLite and in-process counters each worker would keep its own limits, lockout and one-time captcha ledger',
      });
    }
  })
  .transform((env) => ({ count: env.WORKERS }));

export type WorkersConfig = z.output<typeof workersEnv>;

const SHUTDOWN_DEADLINE_MS = 10_000;
const MAX_DEATHS = 5;
const DEATH_WINDOW_MS = 30_000;

/** Runs the primary: forks `count` workers of this same script and watches them. */
export function runPrimary(count: number, logger: Logger): void {
  let stopping = false;
  const deaths: number[] = [];
  // Our own list: cluster.workers may still hold a worker that has exited but not yet disconnected.
  const live = new Set<Worker>();

  const fork = (): Worker => {
    const worker = cluster.fork();
    live.add(worker);
    logger.info({ worker: worker.process.pid }, 'worker started');
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    if (stopping) {
      logger.info({ worker: worker.process.pid, code, signal }, 'worker stopped');
      if (code !== 0) process.exitCode = 1;
      if (live.size === 0) {
        logger.info('stopped');
        process.exit();
      }
      return;
    }
    const now = Date.now();
    deaths.push(now);
    while (deaths.length > 0 && (deaths[0] as number) < now - DEATH_WINDOW_MS) deaths.shift();
    if (deaths.length >= MAX_DEATHS) {
      logger.fatal({ worker: worker.process.pid, code, signal, deaths: deaths.length }, 'workers keep dying; stopping the server');
      process.exitCode = 1;
      shutdown('workers keep dying');
      return;
    }
    logger.error({ worker: worker.process.pid, code, signal }, 'worker died; starting another');
    fork();
  });

  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down the workers');
    const deadline = setTimeout(() => {
      logger.error('workers still running at the shutdown deadline; killing them');
      for (const worker of live) worker.process.kill('SIGKILL');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    if (live.size === 0) process.exit();
    for (const worker of live) worker.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  for (let i = 0; i < count; i += 1) fork();
}
