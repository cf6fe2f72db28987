/**
 * The app's numbers for an operator (prom-client): createMetrics() makes one registry and
 * every metric in it, and hands the features small typed hooks to call, one line at each
 * point counted, so no feature module imports prom-client. Nothing happens at import and
 * nothing is registered globally: the production wiring (compose.ts) makes one, a test
 * app its own. docs/configuration.md#metrics lists every metric.
 *
 * Labels hold only bounded, non-secret values (a result, a method, a store or limiter
 * name), never a username, an address, a session or a token.
 */
import type { ErrorRequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LockScope } from '../auth/lockout.js';
import { HashingBusyError } from '../auth/hashing.js';
import type { CaptchaCheck, CaptchaObserver } from '../captcha/index.js';
import { RefusedError } from '../errors.js';
import type { StoreObserver } from '../storage/guard.js';
import { StoreUnavailableError } from '../storage/ports.js';

/** `code`: the second step of a password sign-in with TOTP (a TOTP or recovery code). */
export type SignInMethod = 'password' | 'passkey' | 'code';
/** `locked`: refused by the lockout without a verdict on the credential. */
export type SignInResult = 'success' | 'failure' | 'locked';

/** What is read at each scrape rather than counted as it happens. */
export interface MetricSources {
  hashing: () => { active: number; waiting: number };
  strengthInFlight: () => number;
  attackModeLevel: () => number;
}

export interface MetricsOptions {
  /** Also the process's own metrics: CPU, memory, handles, GC and event-loop lag (prom-client's defaults). */
  process?: boolean;
  /** Labels on every series of this registry (a cluster worker's `worker`). */
  labels?: Record<string, string> | undefined;
}

export interface Metrics {
  readonly registry: Registry;
  readonly captcha: CaptchaObserver;
  readonly stores: StoreObserver;
  readonly signIn: (method: SignInMethod, result: SignInResult) => void;
  readonly lockBegun: (scope: LockScope) => void;
  readonly rateLimited: (limiter: string) => void;
  /** Error middleware placed before the error handler: counts the refusals it will answer 503, then passes the error on. */
  readonly errors: ErrorRequestHandler;
  /** Where the gauges read from; the app calls it once it has made them. */
  readonly watch: (sources: MetricSources) => void;
}

const PREFIX = 'captcha_login_';
/** Store calls take well under a millisecond (SQLite) to a few (the network); the clients give up at 1 s. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.process) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: PREFIX + name, help, labelNames, registers });

  const pictures = counter('captcha_pictures_total', 'Captcha pictures drawn, each issuing a challenge.');
  const sounds = counter('captcha_sounds_total', 'Captcha sounds served (a challenge spoken; issues nothing).');
  const checks = counter('captcha_checks_total', 'Captcha answers checked, by result.', ['result']);
  const signIns = counter('sign_ins_total', 'Sign-in attempts that reached a verdict, by method and result.', ['method', 'result']);
  const lockouts = counter('lockouts_total', 'Locks begun: a counted failure that took a count to its lock, by scope.', ['scope']);
  const limited = counter('rate_limited_total', 'Requests answered 429 by a per-IP limit, by limiter.', ['limiter']);
  const unavailable = counter('store_unavailable_total', 'Requests answered 503 because a store failed, by store.', ['store']);
  const busy = counter('busy_total', 'Requests answered 503 because a queue was full, by queue.', ['queue']);
  const storeCalls = new Histogram({
    name: `${PREFIX}store_call_duration_seconds`,
    help: 'Store calls by store, method and outcome (error: the back-end failed), in seconds.',
    labelNames: ['store', 'method', 'outcome'] as const,
    buckets: STORE_BUCKETS,
    registers,
  });

  let sources: MetricSources | undefined;
  const gauge = (name: string, help: string, read: (from: MetricSources) => number) =>
    new Gauge({
      name: PREFIX + name,
      help,
      registers,
      collect() {
        if (sources) this.set(read(sources));
      },
    });
  gauge('hashing_active', 'Password hashes running in the hashing gate.', (from) => from.hashing().active);
  gauge('hashing_waiting', 'Sign-ins and sign-ups waiting for a place in the hashing gate.', (from) => from.hashing().waiting);
  gauge('strength_in_flight', 'Password-strength estimates running or queued on the worker thread.', (from) => from.strengthInFlight());
  gauge('attack_mode_level', 'Attack mode: 0 off, else the proof-of-work level (as this process last read it).', (from) => from.attackModeLevel());

  return {
    registry,
    captcha: {
      pictureIssued: () => pictures.inc(),
      soundServed: () => sounds.inc(),
      checked: (result: CaptchaCheck) => checks.inc({ result }),
    },
    stores: {
      called: (store, method, seconds, failed) => storeCalls.observe({ store, method, outcome: failed ? 'error' : 'ok' }, seconds),
    },
    signIn: (method, result) => signIns.inc({ method, result }),
    lockBegun: (scope) => lockouts.inc({ scope }),
    rateLimited: (limiter) => limited.inc({ limiter }),
    errors: (err: unknown, _req, _res, next) => {
      if (err instanceof StoreUnavailableError) unavailable.inc({ store: err.store });
      // The two busy refusals (kind 'busy'): the hashing gate's, and the strength estimator's.
      else if (err instanceof RefusedError && err.kind === 'busy') busy.inc({ queue: err instanceof HashingBusyError ? 'hashing' : 'strength' });
      next(err);
    },
    watch: (from) => {
      sources = from;
    },
  };
}
