/**
 * The storage ports: what the features need from storage, and nothing about where it is
 * kept. Feature modules import these types only; the back-ends (src/storage/<name>/)
 * implement them and openStores (index.ts) picks and wires them.
 *
 * Each port states the guarantee the features rely on, and test/storage/contract.ts
 * checks every back-end against it: claims and counters are atomic across processes,
 * sessions stay destroyed, usernames are unique without regard to case, and everything
 * that grows is forgotten once it no longer matters.
 */
import type session from 'express-session';
import type { Store as RateLimitStore } from 'express-rate-limit';

export interface User {
  id: number;
  username: string;
  passwordHash: string;
  createdAt: number;
}

/** Accounts. Usernames are unique without regard to case (Alice and alice are one). */
export interface UserRepository {
  findByUsername(username: string): Promise<User | undefined>;
  /** Throws UsernameTakenError when the name (in any case) exists; two racing creates cannot both win. */
  create(username: string, passwordHash: string): Promise<User>;
}

export class UsernameTakenError extends Error {
  override name = 'UsernameTakenError';
}

/** A failure count untouched for this long is forgotten (and may be pruned). */
export const FAILURE_MEMORY_MS = 24 * 60 * 60_000;
const KNOWN_NETWORK_DAYS = 90;
/** A network an account has not signed in from for this long is no longer known (and may be pruned). */
export const KNOWN_NETWORK_MS = KNOWN_NETWORK_DAYS * 24 * 60 * 60_000;

/**
 * When a failure count locks: from `after` failures on, for `baseMs`, doubling with each
 * further failure up to `maxMs`. The store applies it itself because the lock must be set
 * in the same atomic step as the count (the lockout module owns the numbers).
 */
export interface LockRule {
  after: number;
  baseMs: number;
  maxMs: number;
}

/** How long a count of `failures` locks under `rule` (0: not locked). Redis' TRY_ATTEMPT script computes the same. */
export function lockDuration(rule: LockRule, failures: number): number {
  if (failures < rule.after) return 0;
  return Math.min(rule.baseMs * 2 ** Math.min(failures - rule.after, 30), rule.maxMs);
}

/** One failure count an attempt touches; `enforce: false` counts it without letting its lock refuse the attempt. */
export interface AttemptCount {
  key: string;
  rule: LockRule;
  enforce: boolean;
}

/** One count's change by tryAttempt: its lock's end before and after (ms since the epoch; 0 for none). */
export interface Reservation {
  key: string;
  lockBefore: number;
  lockAfter: number;
}

/** Failure counts per key (the lockout's), and the networks each account signed in from. */
export interface FailedLoginStore {
  /**
   * Starts a sign-in attempt, in one atomic step across processes: when an enforced count
   * is locked at `now`, nothing changes and it resolves undefined (refused, not counted).
   * Otherwise every count takes the failure in advance, with the lock its rule asks for,
   * and it resolves what changed, so that an attempt that succeeds can take it back
   * (refund). n concurrent attempts see the counts 1…n, so a burst gets no more tries than
   * the rule allows. A count untouched for FAILURE_MEMORY_MS starts again at 1.
   */
  tryAttempt(counts: readonly AttemptCount[], now: number): Promise<Reservation[] | undefined>;
  /**
   * Takes back a failure tryAttempt counted: the count drops by one, and the lock goes
   * back to what it was unless a later failure has moved it since.
   */
  refund(reservation: Reservation): Promise<void>;
  clear(key: string): Promise<void>;
  rememberNetwork(account: string, network: string, now: number): Promise<void>;
  /** Whether the account signed in from the network at or after `since`. */
  knowsNetwork(account: string, network: string, since: number): Promise<boolean>;
}

/** Remembers which captcha challenge ids were used. */
export interface SpentChallengeLedger {
  /** True for the first claim of an id, false for every later one, across processes; kept until `expiresAt`. */
  claim(id: string, expiresAt: number): Promise<boolean>;
}

/**
 * An express-session store whose destroy() leaves a tombstone: set() and touch() of a
 * destroyed sid write nothing (atomically), for at least a day. express-session does not
 * lock, so a request that loaded the session before sign-out would otherwise write it back.
 */
export type SessionStore = session.Store;

/** Makes the counter store of one named per-IP limit (express-rate-limit's Store). */
export type RateLimitStoreFactory = (name: string) => RateLimitStore;

/**
 * What every store operation throws when its back-end failed (unreachable, timed out):
 * the request is refused with 503, never let through (openStores wraps every store).
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(cause: unknown) {
    super('a store is unavailable', { cause });
  }
}

export interface Stores {
  users: UserRepository;
  failedLogins: FailedLoginStore;
  spentChallenges: SpentChallengeLedger;
  sessionStore: SessionStore;
  /** Shared per-IP counters; absent means each process counts in memory. */
  rateLimitStore?: RateLimitStoreFactory;
  /** Resolves when every back-end answers; rejects with StoreUnavailableError otherwise. */
  ping: () => Promise<void>;
  /** Deletes up to one batch of expired rows from each growing table; resolves to how many went. */
  prune: () => Promise<number>;
  /** Stops the pruning timer and closes every connection. */
  close: () => Promise<void>;
}
