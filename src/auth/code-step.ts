/**
 * The second step of a password sign-in, for an account with two-step verification
 * (totp.ts).
 *
 * A right password signs nobody in: its attempt is taken back as if it never was (abandon:
 * no count is cleared, only a code's success clears them), the session is renewed into a
 * pending sign-in (`pendingSignIn`, never `user`) for PENDING_SIGN_IN_MS, and the answer
 * is `{ok:true, step:'code'}`: the page asks for a code on the same page. POST /login/code
 * then takes a TOTP or recovery code. Each well-formed code is a guess and goes through the
 * lockout like a password (the same counts: the account's device, or its network and
 * untrusted budget), so the code step is no free oracle; a locked client's code is refused
 * without being checked. A right code signs in as the password does (completeSignIn, with
 * the fingerprint of the password hash the first step verified: a password changed while
 * the code was awaited is as good as wrong). After MAX_CODE_TRIES wrong codes, or once
 * expired, the pending state is dropped and the password asked for again (which spends a
 * captcha and a hash); tries are counted in the session, which express-session does not
 * lock, so concurrent posts may try a few more: the lockout's counts are the bound that
 * holds. A known device still needs the code: the device cookie is the lockout's capacity
 * signal, given by any sign-in and never a factor (docs/accounts.md). A passkey sign-in
 * needs none (passkey-routes.ts): it is two factors.
 */
import { promisify } from 'node:util';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { RefusedError } from '../errors.js';
import { guardedPostOf, parse } from '../http/guards.js';
import type { IpRateLimits } from '../http/rate-limits.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Csrf } from '../session/csrf.js';
import type { User } from '../storage/ports.js';
import { hashFingerprint } from './accounts.js';
import { completeSignIn, recordFailedSignIn, type CompleteSignInDeps } from './complete-sign-in.js';
import type { Devices } from './devices.js';
import { countedAs, networkOf, type Attempt, type Lockout } from './lockout.js';
import { CODE_INPUT_MAX_LENGTH, parseCode, type TwoFactor } from './totp.js';

/** How long a right password waits for its code before it must be typed again. */
export const PENDING_SIGN_IN_MS = 5 * 60_000;
/** Wrong codes one pending sign-in may try before the password is asked for again (the lockout counts each as well). */
export const MAX_CODE_TRIES = 3;

const codeBody = z.object({ code: z.string().max(CODE_INPUT_MAX_LENGTH) });

export interface CodeStepDeps {
  lockout: Lockout;
  devices: Devices;
  twoFactor: TwoFactor;
  signIn: CompleteSignInDeps;
  csrf: Csrf;
  limits: IpRateLimits;
  clock: () => number;
  metrics: Pick<Metrics, 'signIn'>;
}

export interface CodeStep {
  /** Whether a right password of this account still needs a code. */
  required(userId: number): Promise<boolean>;
  /** Renews the session into a pending sign-in of `user`, waiting for its code (the captchas of other tabs move along, as at sign-in). */
  awaitCode(req: Request, user: User): Promise<void>;
  /** POST /login/code. */
  routes: Router;
}

export function createCodeStep(deps: CodeStepDeps): CodeStep {
  const { lockout, devices, twoFactor, csrf, limits, clock, metrics } = deps;
  const routes = Router();

  routes.post('/login/code', ...limits.posts, ...guardedPostOf(csrf), async (req, res) => {
    const { code } = parse(codeBody, req.body);
    const pending = req.session.pendingSignIn;
    const now = clock();
    if (!pending || now > pending.expiresAt) {
      delete req.session.pendingSignIn;
      throw new RefusedError('totp_step_expired', 'unauthorized');
    }
    // Not a guess (no code has that shape): refused before anything is counted.
    const input = parseCode(code);
    if (!input) throw new RefusedError('totp_code_malformed', 'invalid');
    const user = { id: pending.userId, username: pending.username };
    const device = await devices.deviceFor(req, user.id);
    const attempt = await lockout.begin({ account: countedAs(user, user.username), network: networkOf(req.ip), device });
    // A locked client's code is not checked at all, so a lock tells nothing about the code.
    const verdict = attempt ? await twoFactor.verify(user.id, input).catch(abandonedBy(attempt)) : 'wrong';
    metrics.signIn('code', !attempt ? 'locked' : verdict === 'totp' || verdict === 'recovery' ? 'success' : 'failure');
    if (attempt && (verdict === 'totp' || verdict === 'recovery')) {
      try {
        await attempt.succeeded();
        // A fresh session: the pending state goes with the old one.
        await completeSignIn(deps.signIn, req, res, user.id, verdict === 'totp' ? 'password+totp' : 'password+recovery_code', pending.passwordHash);
      } catch (err) {
        // A store failing here (503) signs nobody in and counts nothing; the code is spent,
        // so the person enters the app's next one (the pending sign-in stays).
        await attempt.abandon();
        throw err;
      }
      res.json({ ok: true, redirect: '/' });
      return;
    }
    // A counted wrong (or spent) code is a failed sign-in of the account, like a wrong password.
    if (attempt) await recordFailedSignIn(deps.signIn, req, user.id, attempt.locksBegun, 'code').catch(abandonedBy(attempt));
    pending.tries += 1;
    if (pending.tries >= MAX_CODE_TRIES) {
      delete req.session.pendingSignIn;
      throw new RefusedError('totp_step_expired', 'unauthorized');
    }
    throw new RefusedError(verdict === 'used' ? 'totp_code_used' : 'totp_sign_in_failed', 'unauthorized');
  });

  return {
    required: async (userId) => (await twoFactor.status(userId)) !== undefined,
    async awaitCode(req, user) {
      const otherTabs = req.session.captcha;
      await promisify(req.session.regenerate.bind(req.session))();
      req.session.captcha = otherTabs;
      req.session.pendingSignIn = {
        userId: user.id,
        username: user.username,
        passwordHash: hashFingerprint(user.passwordHash),
        expiresAt: clock() + PENDING_SIGN_IN_MS,
        tries: 0,
      };
      await promisify(req.session.save.bind(req.session))();
    },
    routes,
  };
}

/** A store failing while a code is checked is no verdict: the attempt's counts go back, and the error stays itself (503). */
function abandonedBy(attempt: Attempt): (err: unknown) => Promise<never> {
  return async (err) => {
    await attempt.abandon();
    throw err;
  };
}
