/**
 * How guessable a new password is, by zxcvbn-ts (strength-worker.ts). Sign-up refuses a
 * password below `MIN_PASSWORD_SCORE` (on zxcvbn's 0–4 scale, 3 is "safely unguessable"
 * against throttled online attacks and slow offline ones), and the sign-up page shows the
 * estimate as a hint while the person types.
 *
 * zxcvbn is synchronous and slow on some inputs (digits repeated: about 0.1 s for 16
 * characters and 0.5 s for 100 on this machine's cores), so it never runs on the event
 * loop. Estimates go to one worker thread, so together they use at most one core
 * whatever the load; at most QUEUE_MAX wait, and each has a deadline, after which the
 * worker is stopped and replaced. Past both, estimate() throws EstimatorBusyError and
 * the caller answers 503: the hint is then missing, and sign-up is refused, never waved
 * through. Only the first ESTIMATE_MAX_CHARS characters are looked at. The thread is
 * started on first use and does not keep the process alive.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { RefusedError } from '../errors.js';
import type { Estimate, EstimateTask } from './strength-worker.js';

export const MIN_PASSWORD_SCORE = 3;
/** Longer input only costs time; past this many characters the estimate rarely changes the verdict. */
export const ESTIMATE_MAX_CHARS = 64;
const QUEUE_MAX = 4;
const DEADLINE_MS = 5_000;

// The worker is a sibling module: .ts under tsx (dev, tests), .js when compiled.
const here = fileURLToPath(import.meta.url);
const WORKER_FILE = path.join(path.dirname(here), `strength-worker${path.extname(here)}`);

export interface PasswordStrength extends Estimate {
  acceptable: boolean;
}

/** The estimator is saturated: 503 busy (a new password is never let through unrated). */
export class EstimatorBusyError extends RefusedError {
  override name = 'EstimatorBusyError';
  constructor(reason: string) {
    super('busy', 'busy', { reason });
  }
}

export interface StrengthEstimator {
  /** Rejects with EstimatorBusyError when the queue is full or the deadline passes. */
  estimate(password: string, userInputs?: string[]): Promise<PasswordStrength>;
  /** Estimates running or queued now (the operator's metrics). */
  readonly inFlight: number;
  close(): Promise<void>;
}

export function createStrengthEstimator(options: { deadlineMs?: number; queueMax?: number } = {}): StrengthEstimator {
  const deadlineMs = options.deadlineMs ?? DEADLINE_MS;
  const maxInFlight = 1 + (options.queueMax ?? QUEUE_MAX);
  let pool: Piscina<EstimateTask, Estimate> | undefined;
  let inFlight = 0;
  return {
    async estimate(password, userInputs = []) {
      if (inFlight >= maxInFlight) throw new EstimatorBusyError('the password-strength queue is full');
      pool ??= new Piscina({ filename: WORKER_FILE, minThreads: 1, maxThreads: 1 });
      inFlight += 1;
      let estimate: Estimate;
      try {
        estimate = await pool.run({ password: password.slice(0, ESTIMATE_MAX_CHARS), userInputs }, { signal: AbortSignal.timeout(deadlineMs) });
      } catch (err) {
        if (err instanceof Error && err.name === 'AbortError') {
          throw new EstimatorBusyError('the password-strength estimate ran past its deadline');
        }
        throw err;
      } finally {
        inFlight -= 1;
      }
      return { ...estimate, acceptable: estimate.score >= MIN_PASSWORD_SCORE };
    },
    get inFlight() {
      return inFlight;
    },
    async close() {
      await pool?.destroy();
    },
  };
}
