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
  /** SHA-256 (hex) of the key of the sign-up form that made the account, until cleared SIGNUP_KEY_MS after createdAt. */
  signupKeyHash?: string;
  /** When an operator locked the account (npm run user:lock); absent when it may sign in. */
  disabledAt?: number;
}

/** One line of the operator's account list. */
export interface AccountSummary {
  id: number;
  username: string;
  createdAt: number;
  disabledAt: number | undefined;
  /** Whether two-step verification (TOTP) is on. */
  totp: boolean;
  passkeys: number;
}

/**
 * How long after an account is made its sign-up key can complete a retried sign-up (the
 * accounts module's rule); after that the key hash is cleared by pruning.
 */
export const SIGNUP_KEY_MS = 10 * 60_000;

/** Accounts. Usernames are unique without regard to case (Alice and alice are one). */
export interface UserRepository {
  findByUsername(username: string): Promise<User | undefined>;
  /**
   * Throws UsernameTakenError when the name (in any case) exists; two racing creates cannot
   * both win. The sign-up key hash, when given, is kept with the account (and returned by
   * findByUsername) until pruning clears it, SIGNUP_KEY_MS after the account was made.
   */
  create(username: string, passwordHash: string, signupKeyHash?: string): Promise<User>;
  /** Replaces the account's password hash; false when no account has that id. */
  setPasswordHash(userId: number, passwordHash: string): Promise<boolean>;
  findById(id: number): Promise<User | undefined>;
  /** Locks the account at `disabledAt`, or unlocks it (undefined); false when there is no such account. */
  setDisabled(id: number, disabledAt: number | undefined): Promise<boolean>;
  /** Up to `limit` accounts with an id above `afterId`, by id (a page of the operator's list). */
  list(afterId: number, limit: number): Promise<AccountSummary[]>;
  /**
   * Removes the account with everything kept beside it in the same back-end (passkeys,
   * events); false when there is no such account. Its id is never given to another
   * account, so state kept elsewhere under it can never reach a stranger.
   */
  delete(id: number): Promise<boolean>;
}

export class UsernameTakenError extends Error {
  override name = 'UsernameTakenError';
}

/** A failure count untouched for this long is forgotten (and may be pruned). */
export const FAILURE_MEMORY_MS = 24 * 60 * 60_000;

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

/** Failure counts per key (the lockout's). */
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
  /** Forgets every count whose key starts with `prefix` (an operator's unlock; may scan every count). */
  clearPrefixed(prefix: string): Promise<void>;
}

const DEVICE_TRUST_DAYS = 90;
/** The longest a device stays known after the sign-in that trusted it (src/auth/devices.ts renews it at each). */
export const DEVICE_TRUST_MS = DEVICE_TRUST_DAYS * 24 * 60 * 60_000;

/**
 * Known devices: pairs (device token hash, account id), each known until its expiry. One
 * browser holds one random token (only its SHA-256 is stored here) and may be a known
 * device of several accounts.
 */
export interface DeviceTokenStore {
  /**
   * Makes `tokenHash` a known device of `accountId` until `expiresAt` (at most
   * DEVICE_TRUST_MS away). With `previousHash` (the token the browser held before this
   * sign-in), the accounts that token was still known for at `now` move to `tokenHash`
   * in the same atomic step, and `previousHash` is known for nothing after it.
   */
  trust(tokenHash: string, accountId: number, expiresAt: number, now: number, previousHash?: string): Promise<void>;
  /** Whether `tokenHash` is a known device of `accountId` at `now` (trusted, not expired, not revoked). */
  knows(tokenHash: string, accountId: number, now: number): Promise<boolean>;
  /** Forgets one device of the account. */
  revoke(tokenHash: string, accountId: number): Promise<void>;
  /** Forgets every device of the account (its other accounts' pairs stay). */
  revokeAll(accountId: number, now: number): Promise<void>;
}

/** A passkey (WebAuthn credential) of an account. */
export interface Passkey {
  /** The credential id, base64url, unique over all accounts. */
  id: string;
  userId: number;
  /** The COSE public key the credential signs with. */
  publicKey: Uint8Array;
  /** The authenticator's signature counter as last seen; 0 for authenticators that keep none. */
  counter: number;
  transports: string[];
  name: string;
  createdAt: number;
  lastUsedAt: number | undefined;
}

export type NewPasskey = Omit<Passkey, 'lastUsedAt'>;

/** Passkeys, kept with the accounts they belong to. */
export interface PasskeyRepository {
  /**
   * Stores the passkey unless its account holds `maxPerAccount` already (resolves false).
   * The count and the insert are one atomic step across processes, so concurrent adds
   * never take an account past the limit. Throws PasskeyTakenError when the credential
   * id is stored already (for any account).
   */
  add(passkey: NewPasskey, maxPerAccount: number): Promise<boolean>;
  /** The passkey with the username of its account. */
  find(id: string): Promise<(Passkey & { username: string }) | undefined>;
  /** The account's passkeys, oldest first. */
  listFor(userId: number): Promise<Passkey[]>;
  /**
   * Records a sign-in with the counter the authenticator reported. Atomic across
   * processes: it writes, and resolves true, only when the stored counter is below
   * `counter`, or both are 0 (an authenticator that counts nothing); so of two sign-ins
   * reporting the same counter one fails, as does a cloned authenticator running behind.
   */
  recordUse(id: string, counter: number, usedAt: number): Promise<boolean>;
  /** Removes the account's passkey; false when the account has no passkey of that id. */
  remove(userId: number, id: string): Promise<boolean>;
}

export class PasskeyTakenError extends Error {
  override name = 'PasskeyTakenError';
}

/** An account's TOTP second factor (src/auth/totp.ts), while it is enabled. */
export interface TotpFactor {
  userId: number;
  /** The shared secret, base32 (RFC 4648, no padding). */
  secret: string;
  enabledAt: number;
  /** How many of its recovery codes are still unused. */
  recoveryCodesLeft: number;
}

/**
 * TOTP factors and their recovery codes, kept with the accounts. Recovery codes are
 * stored as hashes only (the caller hashes them); each is good once.
 */
export interface TotpRepository {
  /**
   * Enables TOTP for the account with its secret and recovery code hashes, in one atomic
   * step: resolves false, writing nothing, when the account has it enabled already, so of
   * concurrent enrolments (any processes) exactly one ends enabled, with its own codes.
   */
  enable(userId: number, secret: string, recoveryCodeHashes: readonly string[], enabledAt: number): Promise<boolean>;
  find(userId: number): Promise<TotpFactor | undefined>;
  /**
   * Spends one recovery code: true for the first use of a hash the account holds, false
   * for a hash it does not hold and for every later use, atomically across processes.
   */
  useRecoveryCode(userId: number, codeHash: string): Promise<boolean>;
  /** Replaces every recovery code of the account in one atomic step; false (nothing written) when TOTP is not enabled. */
  replaceRecoveryCodes(userId: number, codeHashes: readonly string[]): Promise<boolean>;
  /** Disables TOTP: the secret and every recovery code go; false when it was not enabled. */
  disable(userId: number): Promise<boolean>;
}

/** What a WebAuthn challenge was issued for. */
export interface WebAuthnChallenge {
  purpose: 'sign-in' | 'add-passkey';
  /** The signed-in account it was issued to (add-passkey). */
  userId: number | undefined;
  expiresAt: number;
}

/** WebAuthn challenges issued by the server, each good for one response. */
export interface WebAuthnChallengeStore {
  /** Keeps an issued challenge (random, unique) until at least its expiry. */
  put(challenge: string, record: WebAuthnChallenge): Promise<void>;
  /**
   * Removes the challenge and returns what it was issued for: the first take of a
   * challenge gets it, every later one (from any process) undefined. The caller checks
   * expiresAt; a record may outlive it until pruned.
   */
  take(challenge: string): Promise<WebAuthnChallenge | undefined>;
}

/** What happened to an account that its owner should be able to see (src/account/activity.ts). */
export const SECURITY_EVENT_KINDS = [
  'sign_in',
  'sign_in_failed',
  'sign_in_refused_locked',
  'lockout',
  'passkey_added',
  'passkey_removed',
  'totp_enabled',
  'totp_disabled',
  'recovery_codes_regenerated',
  'password_changed',
  'password_reset',
  'sessions_revoked',
  'account_locked',
  'account_unlocked',
] as const;
export type SecurityEventKind = (typeof SECURITY_EVENT_KINDS)[number];

/**
 * The kinds anyone who types the account's name can cause. They are kept (and trimmed)
 * apart from the rest, so a stream of failed guesses cannot push the owner's own events
 * (a sign-in they did not make) out of the log.
 */
export const STRANGER_EVENT_KINDS: readonly SecurityEventKind[] = ['sign_in_failed', 'lockout'];

/** An event older than this is forgotten (pruned). */
export const ACTIVITY_MAX_AGE_MS = 90 * 24 * 60 * 60_000;
/** Pruning keeps this many of an account's newest events of each sort (stranger kinds, the rest). */
export const ACTIVITY_KEEP_PER_ACCOUNT = 100;

export interface SecurityEvent {
  id: number;
  userId: number;
  kind: SecurityEventKind;
  /** When it happened, ms since the epoch. */
  at: number;
  /** The client's network (/24 or /64, lockout.ts's networkOf), when a client caused it. */
  network: string | undefined;
  /** A short, non-secret word the kind gives meaning to (a sign-in's method, a passkey's name). */
  detail: string | undefined;
}

export type NewSecurityEvent = Omit<SecurityEvent, 'id'>;

/** Each account's security events, kept with the accounts (removed with the account). */
export interface ActivityStore {
  /** Appends the event to its account's log (rejects when there is no such account). */
  record(event: NewSecurityEvent): Promise<void>;
  /** The account's `limit` newest events, newest first. */
  latest(userId: number, limit: number): Promise<SecurityEvent[]>;
}

/** Sign-in outcomes of unknown clients are counted per bucket of this many ms (attack mode's signal). */
export const ATTACK_BUCKET_MS = 10_000;
/** A bucket this much older than its start is no longer read (and may be pruned). */
export const ATTACK_SIGNAL_MEMORY_MS = 10 * 60_000;

/** What one bucket counted: password checks of unknown clients, and how many of them failed. */
export interface AttackBucket {
  /** The bucket's start (ms since the epoch, a multiple of ATTACK_BUCKET_MS). */
  start: number;
  attempts: number;
  failures: number;
}

/** The shared counters attack mode reads (src/attack/attack-mode.ts), so every instance sees one campaign. */
export interface AttackSignalStore {
  /** Counts one outcome in the bucket holding `now`: an attempt, and a failure when `failed`. Atomic across processes. */
  record(failed: boolean, now: number): Promise<void>;
  /** The buckets from the one holding `since` to the one holding `now` that counted anything, oldest first. */
  read(since: number, now: number): Promise<AttackBucket[]>;
}

/** The start of the bucket holding `time`. */
export function attackBucketOf(time: number): number {
  return time - (((time % ATTACK_BUCKET_MS) + ATTACK_BUCKET_MS) % ATTACK_BUCKET_MS);
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

/** A live signed-in session of an account, as the session index finds it. */
export interface AccountSession {
  sid: string;
  /** The session record as stored (its user, client facts, signedInAt, lastSeenAt). */
  data: session.SessionData;
  /** When the store forgets it (ms since the epoch): the cookie's expiry. */
  expiresAt: number;
}

/**
 * The sessions of each account, kept by the session store itself in the same atomic step
 * as each write, so the index is exact under sign-in (set), sign-out (destroy), expiry and
 * pruning: a session is indexed under the account of its record's `user` while it lives.
 */
export interface SessionIndex {
  /** The account's sessions that have not expired at `now` (and are not destroyed), in no particular order. */
  listFor(userId: number, now: number): Promise<AccountSession[]>;
  /**
   * Destroys the session, leaving the tombstone destroy() leaves, only when it is a live
   * session of the account; false (and nothing changes) for any other sid.
   */
  destroyFor(userId: number, sid: string): Promise<boolean>;
  /**
   * Destroys every session of the account but `exceptSid`, each with its tombstone, in one
   * atomic step; resolves how many live sessions went.
   */
  destroyAllFor(userId: number, exceptSid?: string): Promise<number>;
}

/** Makes the counter store of one named per-IP limit (express-rate-limit's Store). */
export type RateLimitStoreFactory = (name: string) => RateLimitStore;

/**
 * What every store operation throws when its back-end failed (unreachable, timed out):
 * the request is refused with 503, never let through (openStores wraps every store).
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(
    cause: unknown,
    /** Which store failed (openStores names each), for the operator's metrics. */
    readonly store = 'unknown',
  ) {
    super('a store is unavailable', { cause });
  }
}

export interface Stores {
  users: UserRepository;
  passkeys: PasskeyRepository;
  totp: TotpRepository;
  webauthnChallenges: WebAuthnChallengeStore;
  failedLogins: FailedLoginStore;
  deviceTokens: DeviceTokenStore;
  spentChallenges: SpentChallengeLedger;
  attackSignals: AttackSignalStore;
  activity: ActivityStore;
  sessionStore: SessionStore;
  /** The session store's index of sessions per account. */
  sessionIndex: SessionIndex;
  /** Shared per-IP counters; absent means each process counts in memory. */
  rateLimitStore?: RateLimitStoreFactory;
  /** Resolves when every back-end answers; rejects with StoreUnavailableError otherwise. */
  ping: () => Promise<void>;
  /** Deletes up to one batch of expired rows from each growing table; resolves to how many went. */
  prune: () => Promise<number>;
  /** Stops the pruning timer and closes every connection. */
  close: () => Promise<void>;
}
