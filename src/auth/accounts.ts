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
 * Every sign-in attempt costs one scrypt verification, whether the name is unknown or the
 * account is locked (both verify against a dummy hash), so response time reveals neither.
 * scrypt needs ~128 MiB and a core for a few hundred ms, so at most `concurrency` run at
 * once and the rest wait their turn, instead of a burst exhausting memory.
 */
import pLimit from 'p-limit';
import { z } from 'zod';
import { newPasswordSchema, usernameSchema } from './credentials.js';
import type { StrengthEstimator } from './password-strength.js';
import { OWASP_SCRYPT, hashPassword, verifyPassword, type ScryptParams } from './passwords.js';
import { UsernameTakenError, type User, type UserRepository } from '../storage/ports.js';
import { defaultsOf, envInteger } from '../options.js';

export interface AccountsOptions {
  scryptParams?: ScryptParams;
  /** How many scrypt computations may run at once. */
  concurrency?: number;
  /** Rates new passwords; the caller made it and closes it. */
  strength: StrengthEstimator;
}

export const accountsEnv = z
  .object({ SCRYPT_CONCURRENCY: envInteger(1, 64).default(2) })
  .transform((env) => ({ concurrency: env.SCRYPT_CONCURRENCY }));

export const ACCOUNTS_DEFAULTS = defaultsOf(accountsEnv);

/** Which rule a new account broke; the codes are the message catalogue's. */
export type AccountRule = 'invalid_username' | 'invalid_password' | 'weak_password' | 'username_taken';

export class AccountRuleError extends Error {
  override name = 'AccountRuleError';
  constructor(readonly rule: AccountRule) {
    super(rule);
  }
}

export interface Accounts {
  /**
   * Creates the account, or throws AccountRuleError naming the broken rule (and
   * EstimatorBusyError when the strength estimator is saturated: never skipped).
   */
  register(username: string, password: string): Promise<User>;
  /** The account of that name (without regard to case), looked up before any count or password work. */
  find(username: string): Promise<User | undefined>;
  /**
   * The user found (find) when the password is right; undefined for a wrong password, no
   * account (undefined), or when `locked` (then the password is not even compared, but
   * the work is done).
   */
  authenticate(user: User | undefined, password: string, locked?: boolean): Promise<User | undefined>;
  /** scrypt computations running and waiting now. */
  readonly load: { active: number; waiting: number };
}

export function createAccounts(users: UserRepository, options: AccountsOptions): Accounts {
  const scryptParams = options.scryptParams ?? OWASP_SCRYPT;
  const { strength } = options;
  const limit = pLimit(options.concurrency ?? ACCOUNTS_DEFAULTS.concurrency);
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= limit(() => hashPassword('not a real password', scryptParams)));

  return {
    async register(username, password) {
      if (!usernameSchema.safeParse(username).success) throw new AccountRuleError('invalid_username');
      if (!newPasswordSchema.safeParse(password).success) throw new AccountRuleError('invalid_password');
      // A taken name is refused before the estimate and scrypt (and an unreachable store
      // answers before them too); the unique index still settles two sign-ups racing.
      if (await users.findByUsername(username)) throw new AccountRuleError('username_taken');
      if (!(await strength.estimate(password, [username])).acceptable) throw new AccountRuleError('weak_password');
      const hash = await limit(() => hashPassword(password, scryptParams));
      try {
        return await users.create(username, hash);
      } catch (err) {
        if (err instanceof UsernameTakenError) throw new AccountRuleError('username_taken');
        throw err;
      }
    },
    find: (username) => users.findByUsername(username),
    async authenticate(found, password, locked = false) {
      const user = locked ? undefined : found;
      const stored = user?.passwordHash ?? (await dummy());
      const matches = await limit(() => verifyPassword(password, stored));
      return user && matches ? user : undefined;
    },
    get load() {
      return { active: limit.activeCount, waiting: limit.pendingCount };
    },
  };
}
