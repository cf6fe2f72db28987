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
 */
import type { Request, Response } from 'express';
import type { Activity } from '../account/activity.js';
import { signIn } from '../session/sign-in.js';
import type { SessionTimeouts } from '../session/timeouts.js';
import type { User } from '../storage/ports.js';
import { AccountDisabledError, type Accounts } from './accounts.js';
import type { Devices } from './devices.js';
import { networkOf } from './lockout.js';

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

export async function completeSignIn(deps: CompleteSignInDeps, req: Request, res: Response, userId: number, method: SignInMethod): Promise<void> {
  const user = await ensureMaySignIn(deps, req, userId, method);
  await deps.activity.record(user.id, { kind: 'sign_in', network: networkOf(req.ip), detail: method }, req.log);
  // Trusted before the session is made: a failure here (503) leaves nobody signed in.
  await deps.devices.trust(req, res, user.id);
  await signIn(req, user, deps.timeouts, deps.clock());
}
