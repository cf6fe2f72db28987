/**
 * The two-step verification page, `/account/two-factor`, and its posts (the rules are in
 * src/auth/totp.ts): set up (a new secret, kept in the session until confirmed, shown as a
 * QR code and as base32 text), confirm with a first code (the page sends the secret it
 * shows, so a page whose enrolment another tab replaced is refused), make new recovery
 * codes, turn off. Each post needs the signed-in session and answers with the HTML of the
 * section's next state, rendered from the same partials as the page, for the page script
 * to put in place; recovery codes appear only in the answer that made them.
 *
 * Each change is recorded in the account's activity (activity.ts). Turning two-step on
 * is taken back (503) when its row cannot be written, as adding a passkey is: a factor
 * planted from a stolen session must show (the model takes it back, without asking for
 * a recent sign-in again). New recovery codes are recorded before they replace the old
 * ones: when the row cannot be written, nothing is replaced (503) and the old codes
 * still work. Turning it off stands even then (the log line says so): every change here
 * needs a sign-in of the last minutes, and that sign-in is in the activity (fail closed).
 */
import { Router, type Response } from 'express';
import { z } from 'zod';
import { CODE_INPUT_MAX_LENGTH, type Enrolment, type TwoFactor } from '../auth/totp.js';
import { networkOf } from '../auth/lockout.js';
import { RefusedError } from '../errors.js';
import { guardedPostOf, noStore, parse, signedInUser } from '../http/guards.js';
import type { IpRateLimits } from '../http/rate-limits.js';
import type { Locale } from '../i18n/messages.js';
import { utcTimes } from '../i18n/time.js';
import type { Csrf } from '../session/csrf.js';
import type { TotpFactor } from '../storage/ports.js';
import type { Activity } from './activity.js';

export const TWO_FACTOR_PATH = '/account/two-factor';

export interface TwoFactorRouteDeps {
  twoFactor: TwoFactor;
  activity: Activity;
  csrf: Csrf;
  limits: IpRateLimits;
}

const confirmBody = z.object({ secret: z.string().regex(/^[A-Z2-7]{16,128}$/), code: z.string().max(CODE_INPUT_MAX_LENGTH) });

/** What the section shows of an enabled factor; the date in UTC, said so (as the passkeys' dates). */
function factorView(factor: TotpFactor, locale: Locale) {
  return { since: utcTimes(locale)(factor.enabledAt), codesLeft: factor.recoveryCodesLeft };
}

/** The enrolment as shown: the secret in groups of four, easier to type. */
function enrolmentView(enrolment: Enrolment) {
  return { secret: enrolment.secret, groups: enrolment.secret.match(/.{1,4}/g) ?? [], qrCode: enrolment.qrCode };
}

function renderPartial(res: Response, view: string, locals: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => res.render(view, locals, (err, html) => (err ? reject(err) : resolve(html))));
}

export function twoFactorRoutes({ twoFactor, activity, csrf, limits }: TwoFactorRouteDeps): Router {
  const router = Router();
  const guardedPost = guardedPostOf(csrf);

  router.get(TWO_FACTOR_PATH, noStore, async (req, res) => {
    const user = req.session.user;
    if (!user) {
      res.redirect(303, '/login');
      return;
    }
    const factor = await twoFactor.status(user.id);
    res.render('two-factor', { csrfToken: csrf.tokenFor(req, res), factor: factor && factorView(factor, req.locale) });
  });

  router.post(`${TWO_FACTOR_PATH}/enrol`, ...limits.posts, ...guardedPost, async (req, res) => {
    const user = signedInUser(req);
    if (await twoFactor.status(user.id)) throw new RefusedError('totp_already_enabled', 'conflict');
    const enrolment = await twoFactor.newEnrolment(user);
    // Replaces any enrolment another tab started: that tab's confirmation is then refused as stale.
    req.session.totpEnrolment = enrolment.secret;
    res.json({ ok: true, html: await renderPartial(res, 'partials/two-factor-enrol', { enrolment: enrolmentView(enrolment) }) });
  });

  router.post(`${TWO_FACTOR_PATH}/confirm`, ...limits.posts, ...guardedPost, async (req, res) => {
    const user = signedInUser(req);
    const { secret, code } = parse(confirmBody, req.body);
    const codes = await twoFactor.confirm(user, req.session.totpEnrolment, secret, code, () =>
      activity.record(user.id, { kind: 'totp_enabled', network: networkOf(req.ip) }, req.log),
    );
    delete req.session.totpEnrolment;
    const html = await renderPartial(res, 'partials/two-factor-codes', { codes });
    res.json({ ok: true, html, message: res.locals.t('twoFactorEnabled') });
  });

  router.post(`${TWO_FACTOR_PATH}/recovery-codes`, ...limits.posts, ...guardedPost, async (req, res) => {
    const user = signedInUser(req);
    const codes = await twoFactor.regenerateRecoveryCodes(user, () =>
      activity.record(user.id, { kind: 'recovery_codes_regenerated', network: networkOf(req.ip) }, req.log),
    );
    res.json({ ok: true, html: await renderPartial(res, 'partials/two-factor-codes', { codes }) });
  });

  router.post(`${TWO_FACTOR_PATH}/disable`, ...limits.posts, ...guardedPost, async (req, res) => {
    const user = signedInUser(req);
    await twoFactor.disable(user);
    // Logged by record() when it fails; the change stands (see the header).
    await activity.record(user.id, { kind: 'totp_disabled', network: networkOf(req.ip) }, req.log).catch(() => {});
    const html = await renderPartial(res, 'partials/two-factor-state', { factor: undefined });
    res.json({ ok: true, html, message: res.locals.t('twoFactorDisabled') });
  });

  return router;
}
