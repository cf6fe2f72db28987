/**
 * Accounts: the rules an account must meet, signing up and signing in, on top of a user
 * repository, the password hasher and the strength estimator. The web routes and the CLI
 * both go through here, so neither can create an account the other would refuse.
 *
 * Rules (checked in this order, cheapest first): a username of 3–32 characters from
 * `A–Z a–z 0–9 . _ -`, unique without regard to case; a password of at least
 * PASSWORD_MIN_LENGTH characters (any Unicode, no composition rules) that the estimator
 * rates at least MIN_PASSWORD_SCORE, with the username counted as known to an attacker.
 *
 * A sign-up answered 503 after its account was made (the session write failed, or the
 * database's reply was lost) must not turn its own retry into "taken". Each sign-up form
 * carries a random sign-up key (newSignupKey, made when the page is rendered, the same for
 * every try from that page); the account keeps its SHA-256 for SIGNUP_KEY_MS. A sign-up
 * that finds its name taken by an account made within that window with the same key hash
 * (compared in constant time) and the same password (one scrypt verification, only once
 * the key matched) completes it: it resolves that account, and the caller signs in. Any
 * other client, or a wrong password, gets username_taken as before, word for word. The
 * key itself is never stored or logged.
 *
 * Every sign-in attempt costs one scrypt verification, whether the name is unknown or the
 * account is locked (both verify against a dummy hash), so response time reveals neither.
 * scrypt needs ~128 MiB and a core for a few hundred ms, so it runs only through the
 * hashing gate (hashing.ts): at most `concurrency` at once, known devices first, unknown
 * clients in a bounded queue. A route admits its request (admit) before it spends the
 * captcha and passes the ticket in; a caller that speaks for no client (the CLI, tests)
 * passes none and is admitted as `known`.
 *
 * Changing a password (signed in) applies the sign-up rules to the new one, and needs the
 * current one unless the session signed in within RECENT_SIGN_IN_MS; resetting one (the
 * operator's user:passwd) needs only the rules. Either way the account's other sessions
 * are signed out after the new hash is stored (every one of them, for a reset), so a
 * session opened with the old password does not outlive it. A change answered 503 after
 * its hash was stored (the sign-out failed) is completed by its retry, whose "current"
 * password is then the old one. That path is taken only with this session's mark of the
 * change (hashFingerprint, the SHA-256 of the hash it stored, kept in the session before the
 * hash is: PasswordChange.remember) matching the stored hash, and the new password
 * verifying against it. A wrong current password alone never takes it: a stolen session
 * would otherwise get a second guess (is `next` the password?) per count of the lockout,
 * and a hit would be answered as a change.
 *
 * An operator can lock an account (npm run user:lock): it then cannot sign in by any
 * factor. The lock is checked (ensureMaySignIn) only after the person proved who they
 * are, so to everyone else a locked account looks like any other (a wrong password is a
 * wrong password), and its owner is told it is locked (403 account_disabled) instead of
 * being left to retry a right password.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { newPasswordSchema, usernameSchema } from './credentials.js';
import { RefusedError, type RefusalKind } from '../errors.js';
import { createHashingGate, type Priority, type Ticket } from './hashing.js';
import type { StrengthEstimator } from './password-strength.js';
import { OWASP_SCRYPT, hashPassword, verifyPassword, type ScryptParams } from './passwords.js';
import { SIGNUP_KEY_MS, UsernameTakenError, type SessionIndex, type User, type UserRepository } from '../storage/ports.js';
import { defaultsOf, envInteger } from '../options.js';
import { signedInRecently } from '../session/timeouts.js';

export interface AccountsOptions {
  scryptParams?: ScryptParams;
  /** How many scrypt computations may run at once. */
  concurrency?: number;
  /** How many unknown clients may wait for one; more are refused (HashingBusyError). */
  unknownQueue?: number;
  /** Rates new passwords; the caller made it and closes it. */
  strength: StrengthEstimator;
  /** Tells whether an account is young enough for its sign-up key to count. */
  clock?: () => number;
}

export const accountsEnv = z
  .object({ SCRYPT_CONCURRENCY: envInteger(1, 64).default(2), SCRYPT_UNKNOWN_QUEUE: envInteger(0, 1000).default(4) })
  .transform((env) => ({ concurrency: env.SCRYPT_CONCURRENCY, unknownQueue: env.SCRYPT_UNKNOWN_QUEUE }));

export const ACCOUNTS_DEFAULTS = defaultsOf(accountsEnv);

/** Which rule a new account broke; the codes are the message catalogue's. */
export type AccountRule =
  | 'invalid_username'
  | 'invalid_password'
  | 'weak_password'
  | 'username_taken'
  | 'wrong_password'
  | 'current_password_required'
  | 'account_not_found';

/** A sign-up key as the form sends it: 16 random bytes or more, base64url. */
export const signupKeySchema = z.string().regex(/^[A-Za-z0-9_-]{22,64}$/);

/** A fresh sign-up key, for one sign-up page. */
export function newSignupKey(): string {
  return randomBytes(16).toString('base64url');
}

const hashOfKey = (signupKey: string) => createHash('sha256').update(signupKey).digest();

/** How each rule refuses; the rest are invalid input. */
const RULE_KINDS: Partial<Record<AccountRule, RefusalKind>> = {
  username_taken: 'conflict',
  // The session is signed in; what it typed does not prove it may change the password.
  wrong_password: 'forbidden',
  current_password_required: 'forbidden',
  account_not_found: 'not_found',
};

export class AccountRuleError extends RefusedError {
  override name = 'AccountRuleError';
  constructor(readonly rule: AccountRule) {
    super(rule, RULE_KINDS[rule] ?? 'invalid');
  }
}

/** An operator locked the account (npm run user:lock): told only to whoever proved to be its owner. */
export class AccountDisabledError extends RefusedError {
  override name = 'AccountDisabledError';
  constructor() {
    super('account_disabled', 'forbidden');
  }
}

/** A signed-in person's password change: who, from which session, with what. */
export interface PasswordChange {
  user: { id: number; username: string; signedInAt: number };
  /** The session that stays signed in. */
  sid: string;
  /** The current password as typed; may be left out within RECENT_SIGN_IN_MS of signing in. */
  current: string | undefined;
  next: string;
  /** The mark this session kept of a change of its own that was stored (remember), if any. */
  mark: string | undefined;
  /**
   * Keeps `mark` in this session, durably, before the new hash is stored: a retry of a
   * change stored but answered 503 is recognised by it (and only by it).
   */
  remember: (mark: string) => Promise<void>;
}

/**
 * What a session keeps of a password hash, never the hash itself: its SHA-256, hex. A
 * password change keeps the one of the hash it stores (its mark, for its retry); a sign-in
 * waiting for its code, the one of the hash its password matched (complete-sign-in.ts).
 */
export function hashFingerprint(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('hex');
}

const sameMark = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export interface Accounts {
  /**
   * Creates the account, or throws AccountRuleError naming the broken rule (and
   * EstimatorBusyError when the strength estimator is saturated: never skipped). With a
   * `signupKey`, a name taken by this same sign-up (its key, its password, within
   * SIGNUP_KEY_MS) resolves that account instead of throwing username_taken.
   */
  register(username: string, password: string, signupKey?: string, ticket?: Ticket): Promise<User>;
  /** The account of that name (without regard to case), looked up before any count or password work. */
  find(username: string): Promise<User | undefined>;
  /**
   * The user found (find) when the password is right; undefined for a wrong password, no
   * account (undefined), or when `locked` (then the password is not even compared, but
   * the work is done).
   */
  authenticate(user: User | undefined, password: string, locked?: boolean, ticket?: Ticket): Promise<User | undefined>;
  /**
   * Sets a new password (the sign-up rules) and signs out every other session of the
   * account; resolves how many went. Throws AccountRuleError: the rules' codes,
   * current_password_required (none typed, and the sign-in is not recent),
   * wrong_password (the current one typed is not it), account_not_found (the account is
   * gone); EstimatorBusyError when the estimator is saturated.
   */
  changePassword(change: PasswordChange, sessions: SessionIndex): Promise<number>;
  /** Sets a new password (the sign-up rules) and signs out every session of the account; resolves how many went. */
  resetPassword(username: string, next: string, sessions: SessionIndex): Promise<number>;
  /**
   * The account as stored now, when it may be signed in; throws AccountDisabledError when
   * an operator locked it (or it is gone: an account is locked before it is deleted).
   * Asked only once the person proved who they are (a right password, a passkey, a right
   * code), never before: until then a locked account answers exactly like any other, so
   * a guesser learns nothing of the lock, and its owner learns why they cannot get in.
   */
  ensureMaySignIn(userId: number): Promise<User>;
  /**
   * A place in the hashing gate for a request that will hash (pass it to authenticate or
   * register; cancel it if the request ends first). Throws HashingBusyError when unknown
   * clients' queue is full.
   */
  admit(priority: Priority): Ticket;
  /** scrypt computations running and waiting now. */
  readonly load: { active: number; waiting: number };
}

export function createAccounts(users: UserRepository, options: AccountsOptions): Accounts {
  const scryptParams = options.scryptParams ?? OWASP_SCRYPT;
  const { strength } = options;
  const clock = options.clock ?? Date.now;
  const gate = createHashingGate({
    concurrency: options.concurrency ?? ACCOUNTS_DEFAULTS.concurrency,
    unknownQueue: options.unknownQueue ?? ACCOUNTS_DEFAULTS.unknownQueue,
  });
  /**
   * Hashes through the request's ticket; a second hash in one request (a sign-up race)
   * takes a new place of the same priority, and a caller with no ticket one as `known`.
   */
  const hashWith = <T>(ticket: Ticket | undefined, hash: () => Promise<T>): Promise<T> =>
    (ticket && !ticket.used ? ticket : gate.admit(ticket?.priority ?? 'known')).run(hash);
  // Made once, in the slot of the first attempt that needs it.
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hashPassword('not a real password', scryptParams));

  /**
   * The account, when an earlier try of this very sign-up made it: same key (by hash, in
   * constant time), within SIGNUP_KEY_MS of its creation, same password. Else username_taken.
   */
  async function earlierTry(user: User, password: string, keyHash: Buffer | undefined, ticket: Ticket | undefined): Promise<User> {
    const stored = user.signupKeyHash === undefined ? undefined : Buffer.from(user.signupKeyHash, 'hex');
    const sameKey = keyHash !== undefined && stored?.length === keyHash.length && timingSafeEqual(stored, keyHash);
    const young = clock() - user.createdAt <= SIGNUP_KEY_MS;
    if (sameKey && young && (await hashWith(ticket, () => verifyPassword(password, user.passwordHash)))) return user;
    throw new AccountRuleError('username_taken');
  }

  /** The account of `username`, after the new password passed the sign-up rules (cheapest first). */
  async function accountForNewPassword(username: string, next: string): Promise<User> {
    if (!newPasswordSchema.safeParse(next).success) throw new AccountRuleError('invalid_password');
    const user = await users.findByUsername(username);
    if (!user) throw new AccountRuleError('account_not_found');
    if (!(await strength.estimate(next, [user.username])).acceptable) throw new AccountRuleError('weak_password');
    return user;
  }

  /** Stores the new password's hash (once `remember` kept its mark); the account may have gone since it was read. */
  async function storeNewPassword(user: User, next: string, remember?: (mark: string) => Promise<void>): Promise<void> {
    const hash = await hashWith(undefined, () => hashPassword(next, scryptParams));
    await remember?.(hashFingerprint(hash));
    if (!(await users.setPasswordHash(user.id, hash))) throw new AccountRuleError('account_not_found');
  }

  return {
    async changePassword({ user: signedIn, sid, current, next, mark, remember }, sessions) {
      if (!current && !signedInRecently(signedIn, clock())) throw new AccountRuleError('current_password_required');
      const user = await accountForNewPassword(signedIn.username, next);
      // The name now belongs to another account: the signed-in one was removed.
      if (user.id !== signedIn.id) throw new AccountRuleError('account_not_found');
      // A signed-in person's hashing waits as a known device's would (no ticket: admitted as known).
      if (current && !(await hashWith(undefined, () => verifyPassword(current, user.passwordHash)))) {
        // A retry of this session's change whose hash was stored: nothing is left to do but
        // the sign-out. Without the mark, `next` is not compared at all (no second guess).
        const retry = mark !== undefined && sameMark(mark, hashFingerprint(user.passwordHash));
        if (!retry || !(await hashWith(undefined, () => verifyPassword(next, user.passwordHash)))) throw new AccountRuleError('wrong_password');
      } else {
        await storeNewPassword(user, next, remember);
      }
      return sessions.destroyAllFor(user.id, sid);
    },
    async resetPassword(username, next, sessions) {
      const user = await accountForNewPassword(username, next);
      await storeNewPassword(user, next);
      return sessions.destroyAllFor(user.id);
    },
    async register(username, password, signupKey, ticket) {
      if (!usernameSchema.safeParse(username).success) throw new AccountRuleError('invalid_username');
      if (!newPasswordSchema.safeParse(password).success) throw new AccountRuleError('invalid_password');
      const keyHash = signupKey === undefined ? undefined : hashOfKey(signupKey);
      // A taken name is refused before the estimate and scrypt (and an unreachable store
      // answers before them too), unless this same sign-up took it.
      const existing = await users.findByUsername(username);
      if (existing) return earlierTry(existing, password, keyHash, ticket);
      if (!(await strength.estimate(password, [username])).acceptable) throw new AccountRuleError('weak_password');
      const hash = await hashWith(ticket, () => hashPassword(password, scryptParams));
      try {
        return await users.create(username, hash, keyHash?.toString('hex'));
      } catch (err) {
        if (!(err instanceof UsernameTakenError)) throw err;
        // The unique index settled a race; the winner may be an earlier try of this sign-up
        // whose insert committed late (after that try was answered 503).
        const winner = keyHash && (await users.findByUsername(username));
        if (winner) return earlierTry(winner, password, keyHash, ticket);
        throw new AccountRuleError('username_taken');
      }
    },
    find: (username) => users.findByUsername(username),
    async authenticate(found, password, locked = false, ticket) {
      const user = locked ? undefined : found;
      const matches = await hashWith(ticket, async () => verifyPassword(password, user?.passwordHash ?? (await dummy())));
      return user && matches ? user : undefined;
    },
    async ensureMaySignIn(userId) {
      const user = await users.findById(userId);
      if (!user || user.disabledAt !== undefined) throw new AccountDisabledError();
      return user;
    },
    admit: (priority) => gate.admit(priority),
    get load() {
      const { known, unknown } = gate.load;
      return { active: known.active + unknown.active, waiting: known.waiting + unknown.waiting };
    },
  };
}
