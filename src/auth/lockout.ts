/**
 * Lockout against password guessing, shaped so that it cannot be used to lock the owner
 * out (Keycloak's warning: a plain per-account lock is a remote off-switch).
 *
 * Failures are counted per typed username (existing or not, so a lock reveals nothing
 * about which names exist) on two keys:
 * - per account and network (the client's /24 for IPv4, /64 for IPv6): from
 *   `afterFailures` failures on, that network may not try that account for `baseMs`,
 *   doubling with each further failure up to `maxMs`. Someone else's failures never
 *   lock the owner's network;
 * - per account, over all networks: from `accountAfterFailures` failures on (a guessing
 *   campaign spread over many addresses) the account is locked the same way, except for
 *   networks it signed in from successfully in the last KNOWN_NETWORK_DAYS days, where
 *   a correct password still passes.
 * A success clears its network's count and remembers the network; the account's count
 * stays (the owner signing in must not hand a guessing campaign a fresh allowance), and
 * a count untouched for a day is forgotten. While locked, the route answers exactly as
 * for a wrong password, and a refused attempt does not count (so a lock ends at most
 * `maxMs` after the last counted failure).
 */
import { z } from 'zod';
import type { SqliteDatabase } from '../sqlite.js';
import { defaultsOf, envInteger } from '../options.js';

export interface LockoutPolicy {
  /** Failures of one account from one network before that network is locked out of it. */
  afterFailures: number;
  /** Failures of one account from all networks before it is locked for unknown networks. */
  accountAfterFailures: number;
  baseMs: number;
  maxMs: number;
}

export const lockoutEnv = z
  .object({
    ACCOUNT_LOCK_AFTER_FAILURES: envInteger(1, 100).default(5),
    ACCOUNT_LOCK_ALL_NETWORKS_AFTER_FAILURES: envInteger(1, 10_000).default(20),
    ACCOUNT_LOCK_BASE_SECONDS: envInteger(1, 86_400).default(60),
    ACCOUNT_LOCK_MAX_SECONDS: envInteger(1, 86_400).default(900),
  })
  .superRefine((env, ctx) => {
    if (env.ACCOUNT_LOCK_MAX_SECONDS < env.ACCOUNT_LOCK_BASE_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['ACCOUNT_LOCK_MAX_SECONDS'], message: 'must not be below ACCOUNT_LOCK_BASE_SECONDS' });
    }
    if (env.ACCOUNT_LOCK_ALL_NETWORKS_AFTER_FAILURES < env.ACCOUNT_LOCK_AFTER_FAILURES) {
      ctx.addIssue({
        code: 'custom',
        path: ['ACCOUNT_LOCK_ALL_NETWORKS_AFTER_FAILURES'],
        message: 'must not be below ACCOUNT_LOCK_AFTER_FAILURES',
      });
    }
  })
  .transform(
    (env): LockoutPolicy => ({
      afterFailures: env.ACCOUNT_LOCK_AFTER_FAILURES,
      accountAfterFailures: env.ACCOUNT_LOCK_ALL_NETWORKS_AFTER_FAILURES,
      baseMs: env.ACCOUNT_LOCK_BASE_SECONDS * 1000,
      maxMs: env.ACCOUNT_LOCK_MAX_SECONDS * 1000,
    }),
  );

export const LOCKOUT_DEFAULTS: LockoutPolicy = defaultsOf(lockoutEnv);
const FORGET_AFTER_MS = 24 * 60 * 60_000;
export const KNOWN_NETWORK_DAYS = 90;
const KNOWN_NETWORK_MS = KNOWN_NETWORK_DAYS * 24 * 60 * 60_000;

/** Failure counts per key, and the networks each account signed in from. */
export interface FailedLoginStore {
  /** The time the key's lock ends (0 or past when not locked). */
  lockedUntil(key: string, now: number): Promise<number>;
  /** Counts a failure and sets the lock that `lockFor(failures)` asks for; atomic across processes. */
  addFailure(key: string, now: number, lockFor: (failures: number) => number): Promise<void>;
  clear(key: string): Promise<void>;
  rememberNetwork(account: string, network: string, now: number): Promise<void>;
  /** Whether the account signed in from the network at or after `since`. */
  knowsNetwork(account: string, network: string, since: number): Promise<boolean>;
}

/** How long to lock after the given number of failures, for a threshold. */
export function lockDuration(policy: LockoutPolicy, failures: number, threshold = policy.afterFailures): number {
  if (failures < threshold) return 0;
  const doublings = Math.min(failures - threshold, 30);
  return Math.min(policy.baseMs * 2 ** doublings, policy.maxMs);
}

/** The network a client address belongs to: its /24 (IPv4) or /64 (IPv6). */
export function networkOf(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.\d+$/i.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  const [head = '', tail] = (ip.split('%')[0] ?? '').split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

export interface Lockout {
  /** Whether an attempt on `username` from `network` must be refused without comparing the password. */
  isLocked(username: string, network: string): Promise<boolean>;
  recordFailure(username: string, network: string): Promise<void>;
  recordSuccess(username: string, network: string): Promise<void>;
}

export function createLockout(store: FailedLoginStore, policy: LockoutPolicy, clock: () => number = Date.now): Lockout {
  const account = (username: string) => username.toLowerCase();
  const accountKey = (username: string) => `account:${account(username)}`;
  const networkKey = (username: string, network: string) => `network:${account(username)}@${network}`;
  const lockedNow = async (key: string) => (await store.lockedUntil(key, clock())) > clock();
  return {
    async isLocked(username, network) {
      if (await lockedNow(networkKey(username, network))) return true;
      if (!(await lockedNow(accountKey(username)))) return false;
      return !(await store.knowsNetwork(account(username), network, clock() - KNOWN_NETWORK_MS));
    },
    async recordFailure(username, network) {
      const now = clock();
      await store.addFailure(networkKey(username, network), now, (failures) => lockDuration(policy, failures));
      await store.addFailure(accountKey(username), now, (failures) => lockDuration(policy, failures, policy.accountAfterFailures));
    },
    async recordSuccess(username, network) {
      await store.clear(networkKey(username, network));
      await store.rememberNetwork(account(username), network, clock());
    },
  };
}

const PRUNE_EVERY_WRITES = 500;

export class SqliteFailedLoginStore implements FailedLoginStore {
  readonly #get;
  readonly #add;
  readonly #clear;
  readonly #prune;
  readonly #remember;
  readonly #forgetNetworks;
  readonly #knows;
  #writesSincePrune = 0;

  constructor(db: SqliteDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS failed_logins (
      key TEXT PRIMARY KEY,
      failures INTEGER NOT NULL,
      locked_until INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS sign_in_networks (
      account TEXT NOT NULL,
      network TEXT NOT NULL,
      last_success_at INTEGER NOT NULL,
      PRIMARY KEY (account, network)
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
    this.#prune = db.prepare<[number]>('DELETE FROM failed_logins WHERE updated_at <= ?');
    this.#remember = db.prepare<[string, string, number]>(
      `INSERT INTO sign_in_networks (account, network, last_success_at) VALUES (?, ?, ?)
       ON CONFLICT (account, network) DO UPDATE SET last_success_at = excluded.last_success_at`,
    );
    this.#forgetNetworks = db.prepare<[string, number]>('DELETE FROM sign_in_networks WHERE account = ? AND last_success_at < ?');
    this.#knows = db.prepare<[string, string, number], { found: number }>(
      'SELECT 1 AS found FROM sign_in_networks WHERE account = ? AND network = ? AND last_success_at >= ?',
    );
  }

  async lockedUntil(key: string, now: number): Promise<number> {
    return this.#get.get(key, now - FORGET_AFTER_MS)?.locked_until ?? 0;
  }

  async addFailure(key: string, now: number, lockFor: (failures: number) => number): Promise<void> {
    this.#add(key, now, lockFor);
    this.#writesSincePrune += 1;
    if (this.#writesSincePrune >= PRUNE_EVERY_WRITES) {
      this.#writesSincePrune = 0;
      this.#prune.run(now - FORGET_AFTER_MS);
    }
  }

  async clear(key: string): Promise<void> {
    this.#clear.run(key);
  }

  async rememberNetwork(account: string, network: string, now: number): Promise<void> {
    this.#remember.run(account, network, now);
    this.#forgetNetworks.run(account, now - KNOWN_NETWORK_MS);
  }

  async knowsNetwork(account: string, network: string, since: number): Promise<boolean> {
    return this.#knows.get(account, network, since) !== undefined;
  }
}
