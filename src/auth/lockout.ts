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
 *   networks it signed in from successfully in the last KNOWN_NETWORK_DAYS days
 *   (storage/ports.ts), where a correct password still passes.
 * Every attempt is counted as a failure *before* the password is compared, in the same
 * atomic step that checks the locks (FailedLoginStore.tryAttempt), so a burst of
 * concurrent guesses gets `afterFailures` comparisons, not one per request. A success
 * then takes its failure back: it clears its network's count and remembers the network,
 * while the account's count goes back to what it was (the owner signing in must not hand
 * a guessing campaign a fresh allowance). A count untouched for a day is forgotten
 * (FAILURE_MEMORY_MS). While locked, the route answers exactly as for a wrong password,
 * and a refused attempt does not count (so a lock ends at most `maxMs` after the last
 * counted failure).
 *
 * A passkey cannot be guessed, so a passkey sign-in (`begin(…, { accountWide: false })`)
 * is still counted on both keys (its failures add to a campaign's count like any other)
 * but refused only by its network's lock: an owner with a passkey signs in from a new
 * network during a campaign that locks passwords there.
 */
import { z } from 'zod';
import { defaultsOf, envInteger } from '../options.js';
import { KNOWN_NETWORK_MS, type FailedLoginStore, type LockRule } from '../storage/ports.js';

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

/** The policy as the two counts' rules: per account and network, and per account over all networks. */
export function lockRules(policy: LockoutPolicy): { network: LockRule; account: LockRule } {
  const { baseMs, maxMs } = policy;
  return { network: { after: policy.afterFailures, baseMs, maxMs }, account: { after: policy.accountAfterFailures, baseMs, maxMs } };
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

/** An attempt the lockout let through, already counted as a failure. */
export interface Attempt {
  /** The password (or passkey) was right: takes the failure back and remembers the network. */
  succeeded(): Promise<void>;
}

export interface BeginOptions {
  /**
   * Whether the all-networks lock refuses the attempt (default true); false for a way in
   * that cannot be guessed (a passkey): the attempt is still counted on the account.
   */
  accountWide?: boolean;
}

export interface Lockout {
  /**
   * Starts an attempt on `username` from `network`: undefined when it must be refused
   * without comparing the password (locked; not counted), else the counted attempt.
   */
  begin(username: string, network: string, options?: BeginOptions): Promise<Attempt | undefined>;
}

export function createLockout(store: FailedLoginStore, policy: LockoutPolicy, clock: () => number = Date.now): Lockout {
  const rules = lockRules(policy);
  return {
    async begin(username, network, { accountWide = true } = {}) {
      const account = username.toLowerCase();
      const networkCount = { key: `network:${account}@${network}`, rule: rules.network, enforce: true };
      // The account-wide lock spares networks the account signed in from.
      const enforced = accountWide && !(await store.knowsNetwork(account, network, clock() - KNOWN_NETWORK_MS));
      const accountCount = { key: `account:${account}`, rule: rules.account, enforce: enforced };
      const reservations = await store.tryAttempt([networkCount, accountCount], clock());
      if (!reservations) return undefined;
      return {
        async succeeded() {
          await store.clear(networkCount.key);
          const [, accountReservation] = reservations;
          if (accountReservation) await store.refund(accountReservation);
          await store.rememberNetwork(account, network, clock());
        },
      };
    },
  };
}
