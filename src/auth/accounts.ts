/**
 * Signing up and signing in, on top of a user repository and the password hasher.
 *
 * Sign-in for an unknown name still runs one scrypt verification against a dummy hash, so
 * response time does not reveal which usernames exist.
 */
import { hashPassword, verifyPassword, type ScryptParams, OWASP_SCRYPT } from './passwords.js';
import type { User, UserRepository } from './users.js';

export interface Accounts {
  register(username: string, password: string): Promise<User>;
  /** The user when the password is right; undefined for a wrong password or unknown name. */
  authenticate(username: string, password: string): Promise<User | undefined>;
}

export function createAccounts(users: UserRepository, scryptParams: ScryptParams = OWASP_SCRYPT): Accounts {
  let dummyHash: Promise<string> | undefined;
  return {
    async register(username, password) {
      return users.create(username, await hashPassword(password, scryptParams));
    },
    async authenticate(username, password) {
      const user = await users.findByUsername(username);
      if (!user) {
        dummyHash ??= hashPassword('not a real password', scryptParams);
        await verifyPassword(password, await dummyHash);
        return undefined;
      }
      return (await verifyPassword(password, user.passwordHash)) ? user : undefined;
    },
  };
}
