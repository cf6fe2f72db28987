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
 * With TOTP enrolled, a right password signs nobody in: the code step (code-step.ts) asks
 * for a code first.
 *
 * Every sign-in ends in completeSignIn (complete-sign-in.ts: the operator's lock, the
 * account's activity row, the known device, the session); a counted wrong password is
 * recorded in the account's activity with the locks it began. A sign-up that completes an
 * earlier try of the same form (accounts.ts) signs in the same way, and not past a
 * second factor: once the account has one, the form's key completes nothing.
 */
import { promisify } from 'node:util';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { CAPTCHA_AUDIO_PATH, CAPTCHA_IMAGE_PATH, SLOT_KEY_PATTERN, newSlotKey, type Captcha, type VerifyFailure } from '../captcha/index.js';
import type { Activity } from '../account/activity.js';
import type { AttackMode } from '../attack/attack-mode.js';
import { POW_PAYLOAD_MAX_LENGTH } from '../attack/pow.js';
import { POW_CHALLENGE_PATH, type PowGate } from '../attack/routes.js';
import { HttpError } from '../http/errors.js';
import { guardedPostOf, noStore, parse } from '../http/guards.js';
import type { IpRateLimits } from '../http/rate-limits.js';
import type { ErrorCode } from '../i18n/messages.js';
import type { Metrics } from '../metrics/metrics.js';
import { requireSameOrigin, type Csrf } from '../session/csrf.js';
import { SESSION_COOKIE_NAME } from '../session/middleware.js';
import type { SessionTimeouts } from '../session/timeouts.js';
import { AccountRuleError, hashFingerprint, newSignupKey, signupKeySchema, type Accounts } from './accounts.js';
import { CAPTCHA_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MAX_LENGTH, passwordField, plainField, usernameSchema } from './credentials.js';
import type { Devices } from './devices.js';
import { countedAs, networkOf, type Lockout } from './lockout.js';
import type { StrengthEstimator } from './password-strength.js';
import { createCodeStep } from './code-step.js';
import { completeSignIn, ensureMaySignIn, recordFailedSignIn } from './complete-sign-in.js';
import type { TwoFactor } from './totp.js';

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
  const codeStep = createCodeStep({ lockout, devices, twoFactor, signIn: signInDeps, csrf, limits, clock, metrics });
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
    // Set once the password was judged wrong (or not checked under a lock) and, where it
    // counted, recorded: that count stands. Anything else that ends the request (a store
    // failing: 503) takes the attempt back.
    let judged = false;
    try {
      // In attack mode an unknown client pays first (428/400 with a fresh challenge; the captcha is not spent).
      await powGate.check(form.pow, known);
      await spendCaptcha(req, form);
      const network = networkOf(req.ip);
      const attempt = await lockout.begin({ account: countedAs(found, form.username), network, device });
      if (!attempt) metrics.signIn('password', 'locked');
      // A known device refused by its own lock (the only one that can refuse it) learns
      // nothing it did not cause from the time taken: no hash is spent on it.
      if (!attempt && device !== undefined) {
        judged = true;
        throw new HttpError(401, 'bad_credentials');
      }
      try {
        const user = await accounts.authenticate(found, form.password, attempt === undefined, ticket);
        if (attempt) metrics.signIn('password', user ? 'success' : 'failure');
        if (!user || !attempt) {
          if (!known) await attackMode.recordUnknownOutcome(true);
          // A counted guess at an account is in its activity, with the locks it began; a
          // refused one (locked: not counted) is not, so guessing cannot flood the log.
          if (found && attempt) await recordFailedSignIn(signInDeps, req, found.id, attempt.locksBegun, 'password');
          judged = true;
          throw new HttpError(401, 'bad_credentials');
        }
        needsCode = await codeStep.required(user.id);
        // With a second factor the password proved half: its count goes back as if it never
        // was, and only the code's success clears the counts (else a known password would
        // reset them between guesses of the code).
        await (needsCode ? attempt.abandon() : attempt.succeeded());
        if (!known) await attackMode.recordUnknownOutcome(false);
        if (needsCode) {
          // A locked account is told so after the password, not after a code asked for nothing.
          await ensureMaySignIn(signInDeps, req, user.id, 'password');
          await codeStep.awaitCode(req, user);
        } else {
          await completeSignIn(signInDeps, req, res, user.id, 'password', hashFingerprint(user.passwordHash));
        }
      } catch (err) {
        if (!judged) await attempt?.abandon();
        throw err;
      }
    } finally {
      ticket.cancel();
      if (known) devicesInFlight.delete(device);
    }
    res.json(needsCode ? { ok: true, step: 'code' } : { ok: true, redirect: '/' });
  });

  router.use(codeStep.routes);

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
    // Only an earlier try's account can have a second factor by now: it signs in at /login.
    if (await codeStep.required(user.id)) throw new AccountRuleError('username_taken');
    await completeSignIn(signInDeps, req, res, user.id, 'password', hashFingerprint(user.passwordHash));
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
    // the stale page's sign-out simply lands on /login instead of "page expired"; a
    // sign-in waiting for its code is dropped.
    (req, res, next) => {
      if (req.session.user) return next();
      delete req.session.pendingSignIn;
      signedOut(req, res);
    },
    csrf.require,
    async (req, res) => {
      await promisify(req.session.destroy.bind(req.session))();
      res.clearCookie(SESSION_COOKIE_NAME, { path: '/' });
      signedOut(req, res);
    },
  );

  async function spendCaptcha(req: Request, form: Form): Promise<void> {
    const verdict = await captcha.verify(req, form.captchaId, form.captcha);
    if (!verdict.ok) throw new HttpError(400, CAPTCHA_ERRORS[verdict.reason]);
  }

  return router;
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
