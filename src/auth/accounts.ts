/**
 * Signing up and signing in, on top of a user repository and the password hasher.
 *
 * Every sign-in attempt costs one scrypt verification, whether the name is unknown or the
 * account is locked (both verify against a dummy hash), so response time reveals neither.
 * scrypt needs ~128 MiB and a core for a few hundred ms, so at most `concurrency` run at
 * once and the rest wait their turn, instead of a burst exhausting memory.
 */
import pLimit from 'p-limit';
import { OWASP_SCRYPT, hashPassword, verifyPassword, type ScryptParams } from './passwords.js';
import type { User, UserRepository } from './users.js';
import { z } from 'zod';
import { defaultsOf, envInteger } from '../options.js';

export interface AccountsOptions {
  scryptParams?: ScryptParams;
  /** How many scrypt computations may run at once. */
  concurrency?: number;
}

export const accountsEnv = z
  .object({ SCRYPT_CONCURRENCY: envInteger(1, 64).default(2) })
  .transform((env) => ({ concurrency: env.SCRYPT_CONCURRENCY }));

export const ACCOUNTS_DEFAULTS = defaultsOf(accountsEnv);

export interface Accounts {
  register(username: string, password: string): Promise<User>;
  /**
   * The user when the password is right; undefined for a wrong password, an unknown
   * name, or when `locked` (then the password is not even compared, but the work is done).
   */
  authenticate(username: string, password: string, locked?: boolean): Promise<User | undefined>;
  /** scrypt computations running and waiting now. */
  readonly load: { active: number; waiting: number };
}

export function createAccounts(users: UserRepository, options: AccountsOptions = {}): Accounts {
  const scryptParams = options.scryptParams ?? OWASP_SCRYPT;
  const limit = pLimit(options.concurrency ?? ACCOUNTS_DEFAULTS.concurrency);
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= limit(() => hashPassword('not a real password', scryptParams)));

  return {
    async register(username, password) {
      return users.create(username, await limit(() => hashPassword(password, scryptParams)));
    },
    async authenticate(username, password, locked = false) {
      const user = locked ? undefined : await users.findByUsername(username);
      const stored = user?.passwordHash ?? (await dummy());
      const matches = await limit(() => verifyPassword(password, stored));
      return user && matches ? user : undefined;
    },
    get load() {
      return { active: limit.activeCount, waiting: limit.pendingCount };
    },
  };
}
