/**
 * The pages and form endpoints of signing in, signing up and signing out (passkeys and
 * the home page are in passkey-routes.ts).
 *
 * Each form POST passes, in order: the per-IP limits, the same-origin and CSRF checks,
 * the body schema, the proof of work in attack mode (src/attack/, checked before the
 * captcha so that its refusals leave the captcha unspent), then the captcha, which is
 * spent before any password work, so an attacker without a human cannot make the server
 * run scrypt. Unknown clients' password checks are counted for attack mode. Answers are JSON:
 * `{ok:true, redirect}` or an error from the one error handler.
 */
import { promisify } from 'node:util';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { SLOT_KEY_PATTERN, newSlotKey, type VerifyFailure } from '../captcha/challenges.js';
import type { Captcha } from '../captcha/captcha.js';
import { CAPTCHA_AUDIO_PATH, CAPTCHA_IMAGE_PATH } from '../captcha/routes.js';
import type { AttackMode } from '../attack/attack-mode.js';
import { POW_PAYLOAD_MAX_LENGTH } from '../attack/pow.js';
import { POW_CHALLENGE_PATH, type PowGate } from '../attack/routes.js';
import { HttpError } from '../http/errors.js';
import type { IpRateLimits } from '../http/rate-limits.js';
import type { ErrorCode } from '../i18n/messages.js';
import { requireSameOrigin, type Csrf } from '../session/csrf.js';
import { SESSION_COOKIE_NAME } from '../session/middleware.js';
import { startSignedInSession, type SessionTimeouts } from '../session/timeouts.js';
import { AccountRuleError, type Accounts } from './accounts.js';
import { CAPTCHA_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MAX_LENGTH, passwordField, plainField } from './credentials.js';
import { networkOf, type Lockout } from './lockout.js';
import { EstimatorBusyError, type StrengthEstimator } from './password-strength.js';

export const CSRF_TOKEN_PATH = '/csrf-token';

const formBody = z.object({
  username: plainField(USERNAME_MAX_LENGTH),
  password: passwordField,
  captcha: plainField(CAPTCHA_MAX_LENGTH),
  captchaId: z.string().regex(SLOT_KEY_PATTERN),
  /** The ALTCHA v2 payload (base64 JSON {challenge, solution}); only read in attack mode. */
  pow: z.string().max(POW_PAYLOAD_MAX_LENGTH).optional(),
});

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
  strength: StrengthEstimator;
  csrf: Csrf;
  attackMode: AttackMode;
  powGate: PowGate;
  limits: IpRateLimits;
  timeouts: SessionTimeouts;
  clock: () => number;
}

export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

const requireJson: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type');
  next();
};

export function authRoutes(deps: AuthRouteDeps): Router {
  const { accounts, captcha, lockout, strength, csrf, attackMode, powGate, limits, timeouts, clock } = deps;
  const router = Router();
  const guardedPost = guardedPostOf(csrf);

  router.get('/login', noStore, (req, res) => renderForm(req, res, 'login', csrf.tokenFor(req, res)));
  router.get('/register', noStore, (req, res) => renderForm(req, res, 'register', csrf.tokenFor(req, res)));
  // A page whose token went stale (it outlived the page cookie) fetches a fresh one and retries.
  router.get(CSRF_TOKEN_PATH, noStore, (req, res) => {
    res.json({ ok: true, token: csrf.tokenFor(req, res) });
  });

  router.post('/login', ...limits.posts, ...guardedPost, async (req, res) => {
    const form = parseForm(req);
    // TODO(devices): `known` comes from the account lookup and the signed device cookie
    // (devices.knownFor); until that branch lands, every client is unknown.
    const known = false;
    await powGate.check(form.pow, known);
    await spendCaptcha(req, form);
    const network = networkOf(req.ip);
    const attempt = await lockout.begin(form.username, network);
    const user = await accounts.authenticate(form.username, form.password, attempt === undefined);
    if (!user || !attempt) {
      if (!known) await attackMode.recordUnknownOutcome(true);
      throw new HttpError(401, 'bad_credentials');
    }
    await attempt.succeeded();
    if (!known) await attackMode.recordUnknownOutcome(false);
    await signIn(req, user, timeouts, clock());
    res.json({ ok: true, redirect: '/' });
  });

  router.post('/register', ...limits.posts, ...guardedPost, async (req, res) => {
    const form = parseForm(req);
    await powGate.check(form.pow, false);
    await spendCaptcha(req, form);
    let user;
    try {
      user = await accounts.register(form.username, form.password);
    } catch (err) {
      if (err instanceof AccountRuleError) throw new HttpError(err.rule === 'username_taken' ? 409 : 400, err.rule);
      throw busyAs503(err);
    }
    await signIn(req, user, timeouts, clock());
    res.status(201).json({ ok: true, redirect: '/' });
  });

  router.post('/password-strength', limits.hints, ...guardedPost, async (req, res) => {
    const parsed = strengthBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request');
    const { password, username } = parsed.data;
    const estimate = await strength.estimate(password, username ? [username] : []).catch((err: unknown) => {
      throw busyAs503(err);
    });
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

  function parseForm(req: Request): z.infer<typeof formBody> {
    const parsed = formBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request');
    return parsed.data;
  }

  async function spendCaptcha(req: Request, form: z.infer<typeof formBody>): Promise<void> {
    const verdict = await captcha.verify(req, form.captchaId, form.captcha);
    if (!verdict.ok) throw new HttpError(400, CAPTCHA_ERRORS[verdict.reason]);
  }

  return router;
}

/**
 * A fresh session id at sign-in (with a password or a passkey), so an id planted before
 * sign-in is worthless after. The captchas other tabs are showing move to the new
 * session, so those tabs still work.
 */
export async function signIn(req: Request, user: { id: number; username: string }, timeouts: SessionTimeouts, now: number): Promise<void> {
  const otherTabs = req.session.captcha;
  await promisify(req.session.regenerate.bind(req.session))();
  req.session.captcha = otherTabs;
  startSignedInSession(req, user, timeouts, now);
  await promisify(req.session.save.bind(req.session))();
}

/** What every state-changing JSON post passes before its handler: no caching, same origin, JSON, form token. */
export function guardedPostOf(csrf: Csrf): RequestHandler[] {
  return [noStore, requireSameOrigin, requireJson, csrf.require];
}

/** A saturated strength estimator is a 503 (sign-up then fails closed); anything else stays itself. */
function busyAs503(err: unknown): unknown {
  return err instanceof EstimatorBusyError ? new HttpError(503, 'busy') : err;
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
    passkeySignIn: form === 'login',
    passwordMinLength: PASSWORD_MIN_LENGTH,
    csrfToken,
    csrfTokenPath: CSRF_TOKEN_PATH,
    powChallengePath: POW_CHALLENGE_PATH,
  });
}
