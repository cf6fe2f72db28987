/**
 * Attack mode: the service notices a credential-stuffing campaign from its own shared
 * counters and, while it lasts, makes unknown clients pay a proof of work (pow.ts) per
 * sign-in and sign-up post.
 *
 * The signal is the password checks of unknown clients (not a known device of the
 * account) and how many failed, counted per 10-second bucket in the storage layer
 * (AttackSignalStore), so every instance reads the same numbers. A 30-second window is
 * *hot* when it holds at least `minFailures` failures and failures are at least
 * `failureShare` of its checks: people mistype, but a campaign of leaked pairs fails
 * almost every time, and a busy site's people do not reach the share. A campaign that
 * mixes in sign-ins that succeed (its own accounts) to stay under the share is hot anyway
 * from `anyShareFailures` failures (a rate a site's people do not reach by mistyping), and
 * the share plays no part in the level's steps below.
 * - Off → on: the last 20–30 s (the current bucket and the two before) are hot. With the
 *   counters read at most every REFRESH_MS, it engages within seconds of a campaign's
 *   start, at level 1.
 * - While on, each completed 10-second bucket (aligned to the clock, so every instance
 *   steps on the same buckets) moves the level by the last 30 s after the engaging bucket
 *   (those failures moved it once already; a shorter span has prorated thresholds): at
 *   least half the engaging rate (`minFailures` / 2 a window, with the share) → one up
 *   (each level doubles the proof of work, up to `maxLevel`); under a quarter of it (the
 *   campaign eased) → one down, not below 1; otherwise it stays. So a
 *   campaign pays more every 10 s until the cost holds it under half the rate that engaged
 *   attack mode, and keeps paying the level that holds it there; the level falls only once
 *   the campaign is down to a trickle.
 * - On → off: the last `quietMs` together are no longer hot (fewer failures than one
 *   engaging window, or below the share): a campaign slowed by the proof of work keeps
 *   attack mode on, one that stopped turns it off within quietMs + 15 s (≤ 5 minutes).
 * Both transitions and each level change are logged (one line each, with the counts).
 *
 * A store error while reading the counters fails closed, and says what it checked: state()
 * rejects with the store's error, so an unknown client's post is answered 503 (the store
 * is unavailable), never let through without a proof of work and never told that a
 * campaign is on when nobody could look. Known devices never ask. The failure is kept for
 * RETRY_MS, so a hung store is not asked again by every request. The sign-in needs the
 * same stores anyway, so people lose nothing more by it. /healthz shows the last state
 * read (last()), marked as such.
 * A failure to record an outcome is only logged: the password check already happened,
 * and one missing count cannot let a campaign through.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { defaultsOf, envInteger } from '../options.js';
import { ATTACK_BUCKET_MS, ATTACK_SIGNAL_MEMORY_MS, attackBucketOf, type AttackBucket, type AttackSignalStore } from '../storage/ports.js';

export interface AttackModeOptions {
  /** Failures of unknown clients in 30 s that (with the share) make the window hot. */
  minFailures: number;
  /** The least share of failed checks (0–1) in a hot window. */
  failureShare: number;
  /** Failures in 30 s that make a window hot whatever the share (a campaign mixing in successes cannot hide). */
  anyShareFailures: number;
  /** How long the counters must stay below a hot window's before attack mode turns off. */
  quietMs: number;
  /** The highest proof-of-work level (each level doubles the work of the one before). */
  maxLevel: number;
}

/** The cap on ATTACK_MODE_MAX_LEVEL: pow.ts keeps the top level's worst case for a person under a minute. */
export const MAX_LEVEL_LIMIT = 5;

export const attackModeEnv = z
  .object({
    ATTACK_MODE_MIN_FAILURES: envInteger(1, 1_000_000).default(10),
    ATTACK_MODE_FAILURE_PERCENT: envInteger(1, 100).default(50),
    // Five times ATTACK_MODE_MIN_FAILURES unless set; a busy site whose people mistype that often sets it higher.
    ATTACK_MODE_FAILURES_ANY_SHARE: envInteger(1, 10_000_000).optional(),
    // Up to 270 s, so that with the window and the refresh it relaxes within 5 minutes.
    ATTACK_MODE_QUIET_SECONDS: envInteger(30, 270).default(180),
    ATTACK_MODE_MAX_LEVEL: envInteger(1, MAX_LEVEL_LIMIT).default(4),
  })
  .superRefine((env, ctx) => {
    if (env.ATTACK_MODE_FAILURES_ANY_SHARE !== undefined && env.ATTACK_MODE_FAILURES_ANY_SHARE < env.ATTACK_MODE_MIN_FAILURES) {
      ctx.addIssue({ code: 'custom', path: ['ATTACK_MODE_FAILURES_ANY_SHARE'], message: 'must not be below ATTACK_MODE_MIN_FAILURES' });
    }
  })
  .transform(
    (env): AttackModeOptions => ({
      minFailures: env.ATTACK_MODE_MIN_FAILURES,
      failureShare: env.ATTACK_MODE_FAILURE_PERCENT / 100,
      anyShareFailures: env.ATTACK_MODE_FAILURES_ANY_SHARE ?? 5 * env.ATTACK_MODE_MIN_FAILURES,
      quietMs: env.ATTACK_MODE_QUIET_SECONDS * 1000,
      maxLevel: env.ATTACK_MODE_MAX_LEVEL,
    }),
  );

export const ATTACK_MODE_DEFAULTS: AttackModeOptions = defaultsOf(attackModeEnv);

export const ATTACK_WINDOW_MS = 3 * ATTACK_BUCKET_MS;
/** The counters are read at most this often per instance (one small read); between reads the last state is used. */
export const REFRESH_MS = 2_000;
/** After a failed read, the same failure answers for this long before the counters are asked again. */
export const RETRY_MS = 1_000;

export interface AttackState {
  on: boolean;
  /** The proof-of-work level: 1 to maxLevel while on, 0 while off. */
  level: number;
}

export interface AttackMode {
  /** The current state: cached, read from the shared counters at most every REFRESH_MS; rejects while they cannot be read. */
  state(): Promise<AttackState>;
  /** The last state read, and whether the last read failed (for /healthz, which must answer during an outage). */
  last(): AttackState & { unavailable: boolean };
  /** Counts the outcome of an unknown client's password check; never rejects (a failure is logged). */
  recordUnknownOutcome(failed: boolean): Promise<void>;
}

interface Counts {
  attempts: number;
  failures: number;
}

const OFF: AttackState = { on: false, level: 0 };

export function createAttackMode(deps: {
  store: AttackSignalStore;
  options: AttackModeOptions;
  clock: () => number;
  logger: Logger;
}): AttackMode {
  const { store, options, clock, logger } = deps;
  let current = OFF;
  /** The last completed bucket (its start) that moved the level. */
  let lastStep = 0;
  /** The bucket attack mode turned on in: the steps count only what came after it. */
  let engagedAt = 0;
  let readAt = -Infinity;
  let reading: Promise<AttackState> | undefined;
  let failure: { at: number; err: unknown } | undefined;

  const hot = (counts: Counts) =>
    counts.failures >= options.minFailures &&
    (counts.failures >= options.failureShare * counts.attempts || counts.failures >= options.anyShareFailures);
  // Over `span` of a window's three buckets, the thresholds are prorated.
  const pressing = (counts: Counts, span: number) => counts.failures >= (options.minFailures / 2) * (span / 3);
  const eased = (counts: Counts, span: number) => counts.failures < (options.minFailures / 4) * (span / 3);

  function evaluate(buckets: AttackBucket[], now: number): AttackState {
    const sum = (from: number, to: number): Counts =>
      buckets
        .filter((bucket) => bucket.start >= from && bucket.start < to)
        .reduce((total, bucket) => ({ attempts: total.attempts + bucket.attempts, failures: total.failures + bucket.failures }), { attempts: 0, failures: 0 });
    const bucket = attackBucketOf(now);
    if (!current.on) {
      const recent = sum(bucket + ATTACK_BUCKET_MS - ATTACK_WINDOW_MS, now + 1);
      if (!hot(recent)) return OFF;
      engagedAt = lastStep = bucket;
      logger.info({ level: 1, ...recent }, 'attack mode on');
      return { on: true, level: 1 };
    }
    let { level } = current;
    // Buckets older than the counters' memory were not seen by anyone: the level skips them.
    for (let b = Math.max(lastStep + ATTACK_BUCKET_MS, bucket - ATTACK_SIGNAL_MEMORY_MS); b < bucket; b += ATTACK_BUCKET_MS) {
      const from = Math.max(b + ATTACK_BUCKET_MS - ATTACK_WINDOW_MS, engagedAt + ATTACK_BUCKET_MS);
      const span = (b + ATTACK_BUCKET_MS - from) / ATTACK_BUCKET_MS;
      const counts = sum(from, b + ATTACK_BUCKET_MS);
      const next = pressing(counts, span) ? Math.min(level + 1, options.maxLevel) : eased(counts, span) ? Math.max(level - 1, 1) : level;
      if (next !== level) logger.info({ level: next, ...counts }, 'attack mode level');
      level = next;
    }
    lastStep = Math.max(lastStep, bucket - ATTACK_BUCKET_MS);
    const quiet = sum(attackBucketOf(now - options.quietMs), now + 1);
    if (!hot(quiet)) {
      logger.info({ level, ...quiet }, 'attack mode off');
      return OFF;
    }
    return { on: true, level };
  }

  async function refresh(): Promise<AttackState> {
    const now = clock();
    readAt = now;
    let buckets: AttackBucket[];
    try {
      buckets = await store.read(now - ATTACK_SIGNAL_MEMORY_MS, now);
    } catch (err) {
      if (!failure) logger.warn({ err }, 'attack signals unavailable: unknown clients are refused (503) until they answer');
      failure = { at: now, err };
      throw err;
    }
    failure = undefined;
    current = evaluate(buckets, now);
    return current;
  }

  return {
    async state() {
      if (failure && clock() - failure.at < RETRY_MS) throw failure.err;
      if (!failure && clock() - readAt < REFRESH_MS) return current;
      // Concurrent requests share one read.
      reading ??= refresh().finally(() => (reading = undefined));
      return reading;
    },
    last: () => ({ ...current, unavailable: failure !== undefined }),
    async recordUnknownOutcome(failed) {
      try {
        await store.record(failed, clock());
      } catch (err) {
        logger.warn({ err }, 'attack signal not recorded');
      }
    },
  };
}
