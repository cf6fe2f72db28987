/**
 * Per-account lockout against password guessing spread over many addresses.
 *
 * Failed sign-ins are counted per typed username (existing or not, so the lock reveals
 * nothing about which names exist). From `afterFailures` failures on, the account is
 * locked for `baseMs`, doubling with each further failure up to `maxMs`; a success
 * clears the count, and a count untouched for a day is forgotten. While locked, the
 * route answers exactly as for a wrong password.
 */
import { z } from 'zod';
import type { SqliteDatabase } from '../sqlite.js';
import { defaultsOf, envInteger } from '../options.js';

export interface LockoutPolicy {
  afterFailures: number;
  baseMs: number;
  maxMs: number;
}

export const lockoutEnv = z
  .object({
    ACCOUNT_LOCK_AFTER_FAILURES: envInteger(1, 100).default(5),
    ACCOUNT_LOCK_BASE_SECONDS: envInteger(1, 86_400).default(60),
    ACCOUNT_LOCK_MAX_SECONDS: envInteger(1, 86_400).default(900),
  })
  .superRefine((env, ctx) => {
    if (env.ACCOUNT_LOCK_MAX_SECONDS < env.ACCOUNT_LOCK_BASE_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['ACCOUNT_LOCK_MAX_SECONDS'], message: 'must not be below ACCOUNT_LOCK_BASE_SECONDS' });
    }
  })
  .transform(
    (env): LockoutPolicy => ({
      afterFailures: env.ACCOUNT_LOCK_AFTER_FAILURES,
      baseMs: env.ACCOUNT_LOCK_BASE_SECONDS * 1000,
      maxMs: env.ACCOUNT_LOCK_MAX_SECONDS * 1000,
    }),
  );

export const LOCKOUT_DEFAULTS: LockoutPolicy = defaultsOf(lockoutEnv);
const FORGET_AFTER_MS = 24 * 60 * 60_000;

/** Failure counts per key; addFailure must be atomic across processes. */
export interface FailedLoginStore {
  /** The time the key's lock ends (0 or past when not locked). */
  lockedUntil(key: string, now: number): Promise<number>;
  /** Counts a failure and sets the lock that `lockFor(failures)` asks for. */
  addFailure(key: string, now: number, lockFor: (failures: number) => number): Promise<void>;
  clear(key: string): Promise<void>;
}

/** How long to lock after the given number of failures. */
export function lockDuration(policy: LockoutPolicy, failures: number): number {
  if (failures < policy.afterFailures) return 0;
  const doublings = Math.min(failures - policy.afterFailures, 30);
  return Math.min(policy.baseMs * 2 ** doublings, policy.maxMs);
}

export interface Lockout {
  isLocked(username: string): Promise<boolean>;
  recordFailure(username: string): Promise<void>;
  recordSuccess(username: string): Promise<void>;
}

export function createLockout(store: FailedLoginStore, policy: LockoutPolicy, clock: () => number = Date.now): Lockout {
  const key = (username: string) => username.toLowerCase();
  return {
    isLocked: async (username) => (await store.lockedUntil(key(username), clock())) > clock(),
    recordFailure: (username) => store.addFailure(key(username), clock(), (failures) => lockDuration(policy, failures)),
    recordSuccess: (username) => store.clear(key(username)),
  };
}

export class SqliteFailedLoginStore implements FailedLoginStore {
  readonly #get;
  readonly #add;
  readonly #clear;

  constructor(db: SqliteDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS failed_logins (
      key TEXT PRIMARY KEY,
      failures INTEGER NOT NULL,
      locked_until INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) WITHOUT ROWID`);
    this.#get = db.prepare<[string, number], { locked_until: number }>(
      'SELECT locked_until FROM failed_logins WHERE key = ? AND updated_at > ?',
    );
    const count = db.prepare<[string, number, number], { failures: number }>(
      `INSERT INTO failed_logins (key, failures, locked_until, updated_at) VALUES (?, 1, 0, ?)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN updated_at > ? THEN failures + 1 ELSE 1 END,
         updated_at = excluded.updated_at
       RETURNING failures`,
    );
    const lock = db.prepare<[number, string]>('UPDATE failed_logins SET locked_until = ? WHERE key = ?');
    this.#add = db.transaction((key: string, now: number, lockFor: (failures: number) => number) => {
      const row = count.get(key, now, now - FORGET_AFTER_MS);
      const duration = lockFor(row?.failures ?? 1);
      if (duration > 0) lock.run(now + duration, key);
    });
    this.#clear = db.prepare<[string]>('DELETE FROM failed_logins WHERE key = ?');
  }

  async lockedUntil(key: string, now: number): Promise<number> {
    return this.#get.get(key, now - FORGET_AFTER_MS)?.locked_until ?? 0;
  }

  async addFailure(key: string, now: number, lockFor: (failures: number) => number): Promise<void> {
    this.#add(key, now, lockFor);
  }

  async clear(key: string): Promise<void> {
    this.#clear.run(key);
  }
}
