/**
 * The last step of every sign-in, once the person proved who they are (a right password,
 * a passkey, a right code after the password): the operator's lock, the activity row,
 * the known device, the session, in that order, so that a failure at any step (a 503)
 * leaves nobody signed in, and nobody is ever signed in without the "Signed in" row
 * their owner checks ("was this you?").
 *
 * A locked account (npm run user:lock) is told so (403 account_disabled), and the refused
 * sign-in is recorded: once unlocked, its owner sees that someone with their password or
 * passkey tried meanwhile.
 *
 * A lock, a deletion or a password change can land while a sign-in is under way (between
 * its checks and its session's save). Each of them changes the account first and then
 * signs out its sessions, so the account is read once more after the save: either this
 * read sees the change, or the change's sign-out comes after the save and ends this
 * session with the rest. A password sign-in passes the fingerprint of the hash it verified
 * (hashFingerprint): a password changed since is as good as wrong.
 */
import { promisify } from 'node:util';
import type { Request, Response } from 'express';
import type { Activity } from '../account/activity.js';
import { RefusedError } from '../errors.js';
import { signIn } from '../session/sign-in.js';
import type { SessionTimeouts } from '../session/timeouts.js';
import type { User } from '../storage/ports.js';
import { AccountDisabledError, hashFingerprint, type Accounts } from './accounts.js';
import type { Devices } from './devices.js';
import { networkOf, type LockScope } from './lockout.js';

/** How the person proved who they are (an event's detail). */
export type SignInMethod = 'password' | 'passkey' | 'password+totp' | 'password+recovery_code';

export interface CompleteSignInDeps {
  accounts: Accounts;
  activity: Activity;
  devices: Devices;
  timeouts: SessionTimeouts;
  clock: () => number;
}

/**
 * The account, when the operator's lock lets it sign in; otherwise the refusal is recorded
 * and AccountDisabledError thrown. Asked on its own after a right password that still
 * needs a code, so the owner is told before typing one for nothing.
 */
export async function ensureMaySignIn(deps: CompleteSignInDeps, req: Request, userId: number, method: SignInMethod): Promise<User> {
  try {
    return await deps.accounts.ensureMaySignIn(userId);
  } catch (err) {
    if (err instanceof AccountDisabledError) {
      await deps.activity.record(userId, { kind: 'sign_in_refused_locked', network: networkOf(req.ip), detail: method }, req.log);
    }
    throw err;
  }
}

/**
 * Signs the session in as `userId`. `verifiedHash`: the fingerprint of the password hash
 * the sign-in verified (password sign-ins), refused as bad_credentials if the account's
 * password changed meanwhile.
 */
export async function completeSignIn(deps: CompleteSignInDeps, req: Request, res: Response, userId: number, method: SignInMethod, verifiedHash?: string): Promise<void> {
  const user = await ensureMaySignIn(deps, req, userId, method);
  const passwordChanged = (current: string) => verifiedHash !== undefined && hashFingerprint(current) !== verifiedHash;
  if (passwordChanged(user.passwordHash)) throw new RefusedError('bad_credentials', 'unauthorized', { reason: 'the password changed during the sign-in' });
  await deps.activity.record(user.id, { kind: 'sign_in', network: networkOf(req.ip), detail: method }, req.log);
  // Trusted before the session is made: a failure here (503) leaves nobody signed in.
  await deps.devices.trust(req, res, user.id);
  await signIn(req, user, deps.timeouts, deps.clock());
  try {
    const after = await deps.accounts.ensureMaySignIn(userId);
    if (passwordChanged(after.passwordHash)) throw new RefusedError('bad_credentials', 'unauthorized', { reason: 'the password changed during the sign-in' });
  } catch (err) {
    // Locked, deleted or given a new password meanwhile, or the account could not be read
    // (503: nothing lasting may stay): the session just made goes.
    await promisify(req.session.destroy.bind(req.session))();
    throw err;
  }
}

/** A counted wrong password or code, in the account's activity with the locks it began. */
export async function recordFailedSignIn(deps: Pick<CompleteSignInDeps, 'activity'>, req: Request, userId: number, locksBegun: readonly LockScope[], what: 'password' | 'code'): Promise<void> {
  const network = networkOf(req.ip);
  await deps.activity.record(userId, { kind: 'sign_in_failed', network, detail: what }, req.log);
  for (const scope of locksBegun) await deps.activity.record(userId, { kind: 'lockout', network, detail: scope }, req.log);
}
