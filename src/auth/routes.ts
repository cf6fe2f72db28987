/**
 * The pages and form endpoints of signing in, signing up and signing out.
 *
 * Each POST takes JSON (the page's jQuery sends it) and answers JSON: `{ok:true, redirect}`
 * or an error from the one error handler. The captcha is checked, and spent, before any
 * password work, so an attacker without a human cannot make the server run scrypt.
 */
import { promisify } from 'node:util';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { SLOT_KEY_PATTERN, newSlotKey, type VerifyFailure } from '../captcha/challenges.js';
import type { Captcha } from '../captcha/captcha.js';
import { CAPTCHA_IMAGE_PATH } from '../captcha/routes.js';
import { HttpError } from '../http/errors.js';
import type { ErrorCode } from '../i18n/messages.js';
import { SESSION_COOKIE_NAME } from '../session/middleware.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, newPasswordSchema, usernameSchema } from './credentials.js';
import type { Accounts } from './accounts.js';
import { UsernameTakenError } from './users.js';

const formBody = z.object({
  username: z.string().max(64),
  password: z.string().max(PASSWORD_MAX_LENGTH),
  captcha: z.string().max(16),
  captchaId: z.string().regex(SLOT_KEY_PATTERN),
});

const CAPTCHA_ERRORS: Record<VerifyFailure, ErrorCode> = {
  missing: 'captcha_missing',
  expired: 'captcha_expired',
  wrong: 'captcha_wrong',
};

export function authRoutes(deps: { accounts: Accounts; captcha: Captcha }): Router {
  const { accounts, captcha } = deps;
  const router = Router();

  router.get('/', (req, res) => {
    const user = req.session.user;
    if (!user) {
      res.redirect(303, '/login');
      return;
    }
    res.set('Cache-Control', 'no-store').render('home', { username: user.username });
  });

  router.get('/login', (req, res) => renderForm(res, 'login'));
  router.get('/register', (req, res) => renderForm(res, 'register'));

  router.post('/login', async (req, res) => {
    const form = await checkForm(req);
    const user = await accounts.authenticate(form.username, form.password);
    if (!user) throw new HttpError(401, 'bad_credentials');
    await signIn(req, user);
    res.json({ ok: true, redirect: '/' });
  });

  router.post('/register', async (req, res) => {
    const form = await checkForm(req);
    if (!usernameSchema.safeParse(form.username).success) throw new HttpError(400, 'invalid_username');
    if (!newPasswordSchema.safeParse(form.password).success) throw new HttpError(400, 'invalid_password');
    try {
      const user = await accounts.register(form.username, form.password);
      await signIn(req, user);
    } catch (err) {
      if (err instanceof UsernameTakenError) throw new HttpError(409, 'username_taken');
      throw err;
    }
    res.status(201).json({ ok: true, redirect: '/' });
  });

  router.post('/logout', async (req, res) => {
    await promisify(req.session.destroy.bind(req.session))();
    res.clearCookie(SESSION_COOKIE_NAME, { path: '/' });
    if (req.accepts(['json', 'html']) === 'json') res.json({ ok: true, redirect: '/login' });
    else res.redirect(303, '/login');
  });

  /** Validates the body's shape, then spends the captcha it names. */
  async function checkForm(req: Request): Promise<z.infer<typeof formBody>> {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type');
    const parsed = formBody.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request');
    const verdict = await captcha.verify(req, parsed.data.captchaId, parsed.data.captcha);
    if (!verdict.ok) throw new HttpError(400, CAPTCHA_ERRORS[verdict.reason]);
    return parsed.data;
  }

  return router;
}

function renderForm(res: Response, form: 'login' | 'register'): void {
  const captchaId = newSlotKey();
  res.set('Cache-Control', 'no-store').render(form, {
    captchaId,
    captchaImageUrl: `${CAPTCHA_IMAGE_PATH}?id=${captchaId}`,
    usernameRules: form === 'register',
    passwordMinLength: PASSWORD_MIN_LENGTH,
  });
}

/** A fresh session id at sign-in, so an id planted before sign-in is worthless after. */
async function signIn(req: Request, user: { id: number; username: string }): Promise<void> {
  await promisify(req.session.regenerate.bind(req.session))();
  req.session.user = { id: user.id, username: user.username };
  await promisify(req.session.save.bind(req.session))();
}
