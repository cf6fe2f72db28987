/**
 * Lockout against password guessing, shaped so that it cannot be used to lock the owner
 * out (Keycloak's warning: a plain per-account lock is a remote off-switch).
 *
 * Whose counts: the account the typed name found (`countedAs`: its id), or for a name
 * no account has, that name (which the route has already checked is plain ASCII, so
 * lowercasing it is exact). One account thus has exactly one set of counts however its
 * name is typed: the back-ends match names case-insensitively by their own rules
 * (PostgreSQL's lower() folds "İ" to "i"), which a key made from the typed text would
 * not follow. Unknown names are counted too, so a lock reveals nothing about which names
 * exist.
 *
 * Which counts: it depends on whether the client is a known device of the account
 * (devices.ts: a signed cookie from an earlier sign-in to it):
 * - a known device: only its own count. From `afterFailures` failures on, that device
 *   may not try the account for `baseMs`, doubling up to `maxMs`. Nobody else's
 *   failures touch it, so an owner on a known device is never locked out by a campaign
 *   (OWASP, "Slow Down Online Guessing Attacks with Device Cookies");
 * - any other client: a count per account and network (the client's /24 for IPv4, /64
 *   for IPv6) with the same rule, and the account's untrusted budget, counted over all
 *   networks, which from `accountAfterFailures` failures on locks the account for every
 *   client that is not a known device. The per-network count stays beside the budget
 *   because it acts sooner and narrower: one network's burst locks that network after
 *   `afterFailures` without spending the budget that new devices of the owner share,
 *   and the owner's own new device on another network is not refused until a campaign
 *   spread over networks has used the whole budget.
 * Every attempt is counted as a failure *before* the password is compared, in the same
 * atomic step that checks the locks (FailedLoginStore.tryAttempt), so a burst of
 * concurrent guesses gets `afterFailures` comparisons, not one per request. A success
 * then takes its failure back: it clears its device's or network's count, while the
 * budget goes back to what it was (the owner signing in must not hand a campaign a fresh
 * allowance). An attempt that ends without a verdict (a store failing, a 503) is
 * abandoned: every count it took goes back, so no outage is counted against anyone. A
 * count untouched for a day is forgotten (FAILURE_MEMORY_MS). While locked, the route
 * answers as for a wrong password (a message that names both causes), and a refused
 * attempt does not count (so a lock ends at most `maxMs` after the last counted failure).
 *
 * A passkey cannot be guessed: a passkey sign-in (`begin(…, { passkey: true })`) is
 * refused only by its device's or network's lock, never by the budget, and whatever its
 * outcome it takes its count back (passkeys.ts says why a failed assertion counts
 * nowhere).
 */
import { z } from 'zod';
import { defaultsOf, envInteger } from '../options.js';
import type { AttemptCount, FailedLoginStore, LockRule, Reservation } from '../storage/ports.js';

export interface LockoutPolicy {
  /** Failures of one account from one network (or one known device) before it is locked out of it. */
  afterFailures: number;
  /** Failures of one account from clients that are not its known devices before it is locked for all of them. */
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

/** The policy as the counts' rules: per account and network (or device), and the account's untrusted budget. */
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

/** The key of an account's counts: the account found, else the (ASCII, already checked) name as typed, lowercased. */
export function countedAs(user: { id: number } | undefined, username: string): string {
  return user ? `id:${user.id}` : `name:${username.toLowerCase()}`;
}

/** The keys of an account's counts (`account` as countedAs makes it): its untrusted budget, and each network's and known device's. */
const budgetKey = (account: string) => `account:${account}`;
const networkPrefix = (account: string) => `network:${account}@`;
const devicePrefix = (account: string) => `device:${account}@`;

/**
 * Forgets every count of the account, under its id and under its name (counted before
 * the account existed, or after it is deleted): its budget, every network's and every
 * known device's. What an operator's unlock does.
 */
export async function forgetCounts(store: FailedLoginStore, user: { id: number; username: string }): Promise<void> {
  for (const account of [countedAs(user, user.username), countedAs(undefined, user.username)]) {
    await store.clear(budgetKey(account));
    await store.clearPrefixed(networkPrefix(account));
    await store.clearPrefixed(devicePrefix(account));
  }
}

/** Who is trying: whose counts (countedAs), from which network, and from which known device of the account if any. */
export interface Client {
  account: string;
  network: string;
  /** The device's id (devices.ts) when the client is a known device of the account. */
  device?: string | undefined;
}

/** An attempt the lockout let through, already counted as a failure. */
export interface Attempt {
  /** The locks its failure begins (none was running before it): what a failed attempt is recorded as having started. */
  readonly locksBegun: LockScope[];
  /** The password (or passkey) was right: takes the failure back (the device's or network's count is cleared). */
  succeeded(): Promise<void>;
  /** The attempt ended without a verdict (or was not a guess): every count it took goes back. */
  abandon(): Promise<void>;
}

export interface BeginOptions {
  /** A passkey sign-in: refused by the device's or network's lock only, never by the account's untrusted budget. */
  passkey?: boolean;
}

export interface Lockout {
  /**
   * Starts an attempt of `client`: undefined when it must be refused without comparing
   * the password (locked; not counted), else the counted attempt.
   */
  begin(client: Client, options?: BeginOptions): Promise<Attempt | undefined>;
}

/** Whose lock: a network's or a known device's on one account, or the account's for every unknown client. */
export type LockScope = 'network' | 'device' | 'account';

/**
 * `onLockBegun` is told of each lock an attempt's counted failure begins (the app's
 * metrics). It is told when the failure is counted, before the password is compared, so
 * the rare attempt that reaches a lock with the right password, whose success takes the
 * lock back, is told too.
 */
export function createLockout(
  store: FailedLoginStore,
  policy: LockoutPolicy,
  clock: () => number = Date.now,
  onLockBegun: (scope: LockScope) => void = () => {},
): Lockout {
  const rules = lockRules(policy);
  return {
    async begin({ account, network, device }, { passkey = false } = {}) {
      const own: AttemptCount =
        device === undefined
          ? { key: `${networkPrefix(account)}${network}`, rule: rules.network, enforce: true }
          : { key: `${devicePrefix(account)}${device}`, rule: rules.network, enforce: true };
      // The budget is for guesses from unknown clients; a passkey is not a guess.
      const counts = device === undefined && !passkey ? [own, { key: budgetKey(account), rule: rules.account, enforce: true }] : [own];
      const now = clock();
      const reservations = await store.tryAttempt(counts, now);
      if (!reservations) return undefined;
      // A passkey attempt takes its count back whatever its outcome, so it never begins a lock.
      const scopes: LockScope[] = [device === undefined ? 'network' : 'device', 'account'];
      const locksBegun = passkey
        ? []
        : scopes.filter((_, i) => {
            const reservation = reservations[i];
            return reservation !== undefined && reservation.lockBefore <= now && reservation.lockAfter > now;
          });
      for (const scope of locksBegun) onLockBegun(scope);
      /**
       * The counts not yet taken back. Each is marked done only once its own store call
       * succeeded: a success whose clear or refund failed (a 503) leaves the rest to the
       * request's abandon(), and nothing is taken back twice.
       */
      const pending = new Set(reservations.keys());
      const settle = async (takeBack: (reservation: Reservation, index: number) => Promise<void>) => {
        await Promise.all(
          [...pending].map(async (i) => {
            pending.delete(i);
            try {
              await takeBack(reservations[i] as Reservation, i);
            } catch (err) {
              pending.add(i);
              throw err;
            }
          }),
        );
      };
      return {
        locksBegun,
        succeeded: () => settle((reservation, i) => (i === 0 ? store.clear(reservation.key) : store.refund(reservation))),
        abandon: () => settle((reservation) => store.refund(reservation)),
      };
    },
  };
}
