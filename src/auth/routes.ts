/**
 * The pages and form endpoints of signing in, signing up and signing out (passkeys are in
 * passkey-routes.ts, the home page in src/account/).
 *
 * Each form POST passes, in order: the per-IP limits, the same-origin and CSRF checks,
 * the body schema, the proof of work in attack mode (src/attack/, checked before the
 * captcha so that its refusals leave the captcha unspent), then the captcha, which is
 * spent before any password work, so an attacker without a human cannot make the server
 * run scrypt. Unknown clients' password checks are counted for attack mode. Answers are JSON:
 * `{ok:true, redirect}` or an error from the one error handler.
 *
 * The sign-up page carries a sign-up key (data-signup-key), which the page script sends
 * with every try of that form (`signupKey`), so a retry after a 503 completes the sign-up
 * it may already have made instead of being told the name is taken (accounts.ts).
 *
 * Sign-in looks the account up before the captcha and the lockout: a name that could not
 * be signed up is refused at once, the lockout counts by the account found (lockout.ts),
 * whether the client is a known device of it is known before anything is spent, and a
 * store that fails there has counted nothing. A request that fails after the lockout
 * counted it (a 503) takes the count back, so an outage is never a failed sign-in.
 *
 * With TOTP enrolled (totp.ts), a right password signs nobody in: its attempt is taken
 * back as if it never was (abandon: no count is cleared, only a code's success clears
 * them), the session is renewed into a pending sign-in (`pendingSignIn`, never `user`) for
 * PENDING_SIGN_IN_MS, and the answer is `{ok:true, step:'code'}`: the page asks for a
 * code on the same page. POST /login/code then takes a TOTP or recovery code. Each
 * well-formed code is a guess and goes through the lockout like a password (the same
 * counts: the account's device, or its network and untrusted budget), so the code step is
 * no free oracle; a locked client's code is refused without being checked. A right code
 * signs in as the password path does (device trust, then signIn); after MAX_CODE_TRIES
 * wrong codes, or once expired, the pending state is dropped and the password asked for
 * again (which spends a captcha and a hash). A known device still needs the code: the
 * device cookie is the lockout's capacity signal, given by any sign-in and never a factor
 * (docs/accounts.md). A passkey sign-in needs none (passkey-routes.ts): it is two factors.
 *
 * Every sign-in ends in completeSignIn (complete-sign-in.ts: the operator's lock, the
 * account's activity row, the known device, the session); a counted wrong password or
 * code is recorded in the account's activity with the locks it began.
 */
import { promisify } from 'node:util';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { CAPTCHA_AUDIO_PATH, CAPTCHA_IMAGE_PATH, SLOT_KEY_PATTERN, newSlotKey, type Captcha, type VerifyFailure } from '../captcha/index.js';
import type { Activity } from '../account/activity.js';
import type { AttackMode } from '../attack/attack-mode.js';
import { POW_PAYLOAD_MAX_LENGTH } from '../attack/pow.js';
import { POW_CHALLENGE_PATH, type PowGate } from '../attack/routes.js';
import { RefusedError } from '../errors.js';
import { HttpError } from '../http/errors.js';
import { guardedPostOf, noStore, parse } from '../http/guards.js';
import type { IpRateLimits } from '../http/rate-limits.js';
import type { ErrorCode } from '../i18n/messages.js';
import type { Metrics } from '../metrics/metrics.js';
import { requireSameOrigin, type Csrf } from '../session/csrf.js';
import { SESSION_COOKIE_NAME } from '../session/middleware.js';
import { signIn } from '../session/sign-in.js';
import type { SessionTimeouts } from '../session/timeouts.js';
import { newSignupKey, signupKeySchema, type Accounts } from './accounts.js';
import { CAPTCHA_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MAX_LENGTH, passwordField, plainField, usernameSchema } from './credentials.js';
import type { Devices } from './devices.js';
import { countedAs, networkOf, type Attempt, type LockScope, type Lockout } from './lockout.js';
import type { StrengthEstimator } from './password-strength.js';
import { completeSignIn, ensureMaySignIn } from './complete-sign-in.js';
import { CODE_INPUT_MAX_LENGTH, parseCode, type TwoFactor } from './totp.js';

/** How long a right password waits for its code before it must be typed again. */
export const PENDING_SIGN_IN_MS = 5 * 60_000;
/** Wrong codes one pending sign-in may try before the password is asked for again (the lockout counts each as well). */
export const MAX_CODE_TRIES = 3;

const formBody = z.object({
  username: plainField(USERNAME_MAX_LENGTH),
  password: passwordField,
  captcha: plainField(CAPTCHA_MAX_LENGTH),
  captchaId: z.string().regex(SLOT_KEY_PATTERN),
  /** The ALTCHA v2 payload (base64 JSON {challenge, solution}); only read in attack mode. */
  pow: z.string().max(POW_PAYLOAD_MAX_LENGTH).optional(),
});

/** Optional: a page rendered before sign-up keys existed still signs up (without retry protection). */
const signupKeyBody = z.object({ signupKey: signupKeySchema.optional() });

type Form = z.infer<typeof formBody>;

const codeBody = z.object({ code: z.string().max(CODE_INPUT_MAX_LENGTH) });

const strengthBody = z.object({ password: passwordField, username: plainField(USERNAME_MAX_LENGTH).optional() });

const CAPTCHA_ERRORS: Record<VerifyFailure, ErrorCode> = {
  missing: 'captcha_missing',
  expired: 'captcha_expired',
  wrong: 'captcha_wrong',
};

export interface AuthRouteDeps {
  accounts: Accounts;
  captcha: Captcha;
  lockout: Lockout;
  devices: Devices;
  twoFactor: TwoFactor;
  strength: StrengthEstimator;
  csrf: Csrf;
  attackMode: AttackMode;
  powGate: PowGate;
  limits: IpRateLimits;
  timeouts: SessionTimeouts;
  activity: Activity;
  clock: () => number;
  metrics: Pick<Metrics, 'signIn'>;
}

export function authRoutes(deps: AuthRouteDeps): Router {
  const { accounts, captcha, lockout, devices, twoFactor, strength, csrf, attackMode, powGate, limits, timeouts, activity, clock, metrics } = deps;
  const router = Router();
  const guardedPost = guardedPostOf(csrf);
  const signInDeps = { accounts, activity, devices, timeouts, clock };
  /** The known devices (token hashes) whose sign-in is under way in this process. */
  const devicesInFlight = new Set<string>();

  router.get('/login', noStore, (req, res) => renderForm(req, res, 'login', csrf.tokenFor(req, res)));
  router.get('/register', noStore, (req, res) => renderForm(req, res, 'register', csrf.tokenFor(req, res)));

  router.post('/login', ...limits.posts, ...guardedPost, async (req, res) => {
    const form = parse(formBody, req.body);
    // No account can have such a name (sign-up refuses it), so it names none here either:
    // a back-end's own case folding cannot match it to one under another count (alİce).
    if (!usernameSchema.safeParse(form.username).success) throw new HttpError(401, 'bad_credentials');
    const found = await accounts.find(form.username);
    // Asked for an unknown name too (no account has id 0: never known), so the time taken tells nothing.
    const device = await devices.deviceFor(req, found?.id ?? 0);
    // A known device goes first and pays no proof of work, one request at a time: more at
    // once from one device cookie (a bot sharing the cookie of its own account) are
    // unknown clients. Its failures still count against the device alone.
    const known = device !== undefined && !devicesInFlight.has(device);
    // A place to hash the password, known devices first; refused (503) before anything is
    // spent, the proof of work included, so the page can send the same form again.
    const ticket = accounts.admit(known ? 'known' : 'unknown');
    if (known) devicesInFlight.add(device);
    let needsCode = false;
    try {
      // In attack mode an unknown client pays first (428/400 with a fresh challenge; the captcha is not spent).
      await powGate.check(form.pow, known);
      await spendCaptcha(req, form);
      const network = networkOf(req.ip);
      const attempt = await lockout.begin({ account: countedAs(found, form.username), network, device });
      if (!attempt) metrics.signIn('password', 'locked');
      // A known device refused by its own lock (the only one that can refuse it) learns
      // nothing it did not cause from the time taken: no hash is spent on it.
      if (!attempt && device !== undefined) throw new HttpError(401, 'bad_credentials');
      try {
        const user = await accounts.authenticate(found, form.password, attempt === undefined, ticket);
        if (attempt) metrics.signIn('password', user ? 'success' : 'failure');
        if (!user || !attempt) {
          if (!known) await attackMode.recordUnknownOutcome(true);
          // A counted guess at an account is in its activity, with the locks it began; a
          // refused one (locked: not counted) is not, so guessing cannot flood the log.
          if (found && attempt) await recordFailure(req, found.id, network, attempt.locksBegun, 'password');
          throw new HttpError(401, 'bad_credentials');
        }
        needsCode = (await twoFactor.status(user.id)) !== undefined;
        // With a second factor the password proved half: its count goes back as if it never
        // was, and only the code's success clears the counts (else a known password would
        // reset them between guesses of the code).
        await (needsCode ? attempt.abandon() : attempt.succeeded());
        if (!known) await attackMode.recordUnknownOutcome(false);
        if (needsCode) {
          // A locked account is told so after the password, not after a code asked for nothing.
          await ensureMaySignIn(signInDeps, req, user.id, 'password');
          await awaitCode(req, user, clock());
        } else {
          await completeSignIn(signInDeps, req, res, user.id, 'password');
        }
      } catch (err) {
        // Only a verdict counts: anything else (a store failing: 503) takes the attempt back.
        if (!(err instanceof HttpError && err.status === 401)) await attempt?.abandon();
        throw err;
      }
    } finally {
      ticket.cancel();
      if (known) devicesInFlight.delete(device);
    }
    res.json(needsCode ? { ok: true, step: 'code' } : { ok: true, redirect: '/' });
  });

  router.post('/login/code', ...limits.posts, ...guardedPost, async (req, res) => {
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
    const network = networkOf(req.ip);
    const attempt = await lockout.begin({ account: countedAs(user, user.username), network, device });
    // A locked client's code is not checked at all, so a lock tells nothing about the code.
    const verdict = attempt ? await twoFactor.verify(user.id, input).catch(abandonedBy(attempt)) : 'wrong';
    metrics.signIn('code', !attempt ? 'locked' : verdict === 'totp' || verdict === 'recovery' ? 'success' : 'failure');
    if (attempt && (verdict === 'totp' || verdict === 'recovery')) {
      try {
        await attempt.succeeded();
        // A fresh session: the pending state goes with the old one.
        await completeSignIn(signInDeps, req, res, user.id, verdict === 'totp' ? 'password+totp' : 'password+recovery_code');
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
    if (attempt) await recordFailure(req, user.id, network, attempt.locksBegun, 'code').catch(abandonedBy(attempt));
    pending.tries += 1;
    if (pending.tries >= MAX_CODE_TRIES) {
      delete req.session.pendingSignIn;
      throw new RefusedError('totp_step_expired', 'unauthorized');
    }
    throw new RefusedError(verdict === 'used' ? 'totp_code_used' : 'totp_sign_in_failed', 'unauthorized');
  });

  router.post('/register', ...limits.posts, ...guardedPost, async (req, res) => {
    // Checked before the captcha is spent, like the rest of the body.
    const { signupKey } = parse(signupKeyBody, req.body);
    const form = parse(formBody, req.body);
    // A sign-up is always an unknown client's: it waits behind known devices' sign-ins.
    const ticket = accounts.admit('unknown');
    let user;
    try {
      await powGate.check(form.pow, false);
      await spendCaptcha(req, form);
      user = await accounts.register(form.username, form.password, signupKey, ticket);
    } finally {
      ticket.cancel();
    }
    await signIn(req, user, timeouts, clock());
    res.status(201).json({ ok: true, redirect: '/' });
  });

  router.post('/password-strength', limits.hints, ...guardedPost, async (req, res) => {
    const { password, username } = parse(strengthBody, req.body);
    const estimate = await strength.estimate(password, username ? [username] : []);
    res.json({ ok: true, ...estimate });
  });

  router.post(
    '/logout',
    noStore,
    requireSameOrigin,
    express.urlencoded({ extended: false, limit: '2kb' }),
    // Nobody signed in (signed out in another tab, or timed out): nothing to protect, so
    // the stale page's sign-out simply lands on /login instead of "page expired".
    (req, res, next) => (req.session.user ? next() : signedOut(req, res)),
    csrf.require,
    async (req, res) => {
      await promisify(req.session.destroy.bind(req.session))();
      res.clearCookie(SESSION_COOKIE_NAME, { path: '/' });
      signedOut(req, res);
    },
  );

  async function recordFailure(req: Request, userId: number, network: string, locksBegun: readonly LockScope[], what: 'password' | 'code'): Promise<void> {
    await activity.record(userId, { kind: 'sign_in_failed', network, detail: what }, req.log);
    for (const scope of locksBegun) await activity.record(userId, { kind: 'lockout', network, detail: scope }, req.log);
  }

  /** Renews the session into a pending sign-in of `user`, waiting for its code (the captchas of other tabs move along, as at sign-in). */
  async function awaitCode(req: Request, user: { id: number; username: string }, now: number): Promise<void> {
    const otherTabs = req.session.captcha;
    await promisify(req.session.regenerate.bind(req.session))();
    req.session.captcha = otherTabs;
    req.session.pendingSignIn = { userId: user.id, username: user.username, expiresAt: now + PENDING_SIGN_IN_MS, tries: 0 };
    await promisify(req.session.save.bind(req.session))();
  }

  async function spendCaptcha(req: Request, form: Form): Promise<void> {
    const verdict = await captcha.verify(req, form.captchaId, form.captcha);
    if (!verdict.ok) throw new HttpError(400, CAPTCHA_ERRORS[verdict.reason]);
  }

  return router;
}

/** A store failing while a code is checked is no verdict: the attempt's counts go back, and the error stays itself (503). */
function abandonedBy(attempt: Attempt): (err: unknown) => Promise<never> {
  return async (err) => {
    await attempt.abandon();
    throw err;
  };
}

function signedOut(req: Request, res: Response): void {
  if (req.accepts(['html', 'json']) === 'json') res.json({ ok: true, redirect: '/login' });
  else res.redirect(303, '/login');
}

function renderForm(req: Request, res: Response, form: 'login' | 'register', csrfToken: string): void {
  const captchaId = newSlotKey();
  res.render(form, {
    captchaId,
    captchaImageUrl: `${CAPTCHA_IMAGE_PATH}?id=${captchaId}`,
    captchaAudioUrl: `${CAPTCHA_AUDIO_PATH}?id=${captchaId}&lang=${req.locale}`,
    usernameRules: form === 'register',
    signupKey: form === 'register' ? newSignupKey() : undefined,
    passkeySignIn: form === 'login',
    codeStep: form === 'login',
    passwordMinLength: PASSWORD_MIN_LENGTH,
    csrfToken,
    powChallengePath: POW_CHALLENGE_PATH,
  });
}
