/**
 * The "change password" page and its post: GET /account/password, POST /account/password
 * ({current, password, confirm}). The rules are the accounts module's (changePassword):
 * the sign-up rules for the new password, the current one unless the session signed in
 * within RECENT_SIGN_IN_MS, and every other session of the account signed out.
 *
 * A typed current password is a guess like a sign-in's, and a session (perhaps a stolen
 * one) must not make this form a password oracle without a captcha: it is counted by the
 * lockout as the sign-in form counts it (by account, and by the client's known device or
 * network), and a locked client is answered as for a wrong password, without comparing.
 * A refusal that is not a verdict on it (a rule of the new password, a 503) takes the
 * count back.
 *
 * A change is recorded in the account's activity (password_changed), and so is a wrong
 * current password the lockout counted (a failed sign-in, with the locks it began): a
 * stolen session guessing the password shows. A change whose row cannot be written is
 * answered 503 with the new password stored, and the page's retry completes it
 * (accounts.changePassword) and writes the row; a wrong password whose failure cannot be
 * written is answered 503 and not counted, as at sign-in.
 *
 * The retry is recognised by the mark the change kept in this session (saved before its
 * hash is stored, so a stored hash always has its mark), and by nothing else: its
 * "current" password is the old one by then, and a wrong current password alone must
 * not be answered as a change. The mark goes once the change is answered as done.
 */
import { promisify } from 'node:util';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { AccountRuleError, type Accounts } from '../auth/accounts.js';
import { PASSWORD_MIN_LENGTH, passwordField } from '../auth/credentials.js';
import type { Devices } from '../auth/devices.js';
import { countedAs, networkOf, type Attempt, type Lockout } from '../auth/lockout.js';
import { RefusedError } from '../errors.js';
import { guardedPostOf, noStore, parse, signedInUser } from '../http/guards.js';
import type { IpRateLimits } from '../http/rate-limits.js';
import type { Csrf } from '../session/csrf.js';
import { signedInRecently } from '../session/timeouts.js';
import type { SessionIndex } from '../storage/ports.js';
import type { Activity } from './activity.js';

export const PASSWORD_PATH = '/account/password';
/** How long a stored change's mark lets a retry of it complete (the retry of a 503 comes at once). */
const CHANGE_RETRY_MS = 10 * 60_000;

export interface PasswordRouteDeps {
  accounts: Accounts;
  sessionIndex: SessionIndex;
  lockout: Lockout;
  devices: Devices;
  activity: Activity;
  csrf: Csrf;
  limits: IpRateLimits;
  clock: () => number;
}

const changeBody = z.object({ current: passwordField.optional(), password: passwordField, confirm: passwordField });

export function passwordRoutes({ accounts, sessionIndex, lockout, devices, activity, csrf, limits, clock }: PasswordRouteDeps): Router {
  const router = Router();
  const guardedPost = guardedPostOf(csrf);

  router.get(PASSWORD_PATH, noStore, (req, res) => {
    const user = req.session.user;
    if (!user) {
      res.redirect(303, '/login');
      return;
    }
    res.render('password', {
      csrfToken: csrf.tokenFor(req, res),
      username: user.username,
      recentSignIn: signedInRecently(user, clock()),
      passwordMinLength: PASSWORD_MIN_LENGTH,
    });
  });

  router.post(PASSWORD_PATH, ...limits.posts, ...guardedPost, async (req, res) => {
    const user = signedInUser(req);
    const body = parse(changeBody, req.body);
    if (body.password !== body.confirm) throw new RefusedError('passwords_differ', 'invalid');
    const current = body.current || undefined;
    let attempt: Attempt | undefined;
    const network = networkOf(req.ip);
    if (current !== undefined) {
      const client = { account: countedAs(user, user.username), network, device: await devices.deviceFor(req, user.id) };
      attempt = await lockout.begin(client);
      // Locked: answered as a wrong password, and not compared.
      if (!attempt) throw new AccountRuleError('wrong_password');
    }
    let signedOut: number;
    const kept = req.session.passwordChangeMark;
    try {
      signedOut = await accounts.changePassword(
        {
          user,
          sid: req.sessionID,
          current,
          next: body.password,
          // A retry comes within seconds; a mark left by a change never retried opens nothing later.
          mark: (kept?.until ?? 0) > clock() ? kept?.mark : undefined,
          remember: async (mark) => {
            req.session.passwordChangeMark = { mark, until: clock() + CHANGE_RETRY_MS };
            await promisify(req.session.save.bind(req.session))();
          },
        },
        sessionIndex,
      );
      await attempt?.succeeded();
    } catch (err) {
      // Only a wrong current password is a verdict on the guess; anything else takes it back.
      const guessed = err instanceof AccountRuleError && err.rule === 'wrong_password';
      if (!guessed) await attempt?.abandon();
      else if (attempt) await recordWrongPassword(req, user.id, network, attempt);
      throw err;
    }
    await activity.record(user.id, { kind: 'password_changed', network }, req.log);
    delete req.session.passwordChangeMark;
    res.json({ ok: true, count: signedOut, message: res.locals.t('passwordChanged', { n: String(signedOut) }) });
  });

  /** A counted wrong current password, with the locks it began; unrecorded, it is taken back (503). */
  async function recordWrongPassword(req: Request, userId: number, network: string, attempt: Attempt): Promise<void> {
    try {
      await activity.record(userId, { kind: 'sign_in_failed', network, detail: 'current_password' }, req.log);
      for (const scope of attempt.locksBegun) await activity.record(userId, { kind: 'lockout', network, detail: scope }, req.log);
    } catch (err) {
      await attempt.abandon();
      throw err;
    }
  }

  return router;
}
