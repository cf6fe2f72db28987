/**
 * The passkey endpoints (the logic is in passkeys.ts; the home page, where a signed-in
 * person lists, adds and removes them, is src/account/home.ts).
 *
 * Each ceremony is two posts: options (a fresh server-kept challenge, under a per-IP
 * limit as high as the pictures', since the sign-in page asks for one on every view for
 * the browser's autofill), then the response (counted with the sign-in posts).
 * Every post passes the same-origin and CSRF checks; adding and removing also need the
 * signed-in session, and adding a recent sign-in (passkeys.ts). Signing in with a
 * passkey ends like a password sign-in (complete-sign-in.ts: the operator's lock, the
 * activity row, the session).
 *
 * Adding and removing a passkey are recorded in the account's activity. A passkey whose
 * row could not be written is taken away again (503): a passkey planted from a stolen
 * session must not be missing from the log its owner checks. A removal whose row could
 * not be written still stands and is answered as done (the log line says what happened):
 * it took a way in away, and a 503 would tell the person it had not.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { HttpError } from '../http/errors.js';
import { guardedPostOf, parse, signedInUser } from '../http/guards.js';
import type { IpRateLimits } from '../http/rate-limits.js';
import type { Locale, Translate } from '../i18n/messages.js';
import { utcTimes } from '../i18n/time.js';
import type { Csrf } from '../session/csrf.js';
import type { SessionTimeouts } from '../session/timeouts.js';
import type { Passkey } from '../storage/ports.js';
import type { Activity } from '../account/activity.js';
import type { Accounts } from './accounts.js';
import { completeSignIn } from './complete-sign-in.js';
import type { Devices } from './devices.js';
import { networkOf } from './lockout.js';
import { PASSKEY_NAME_MAX_LENGTH, siteOf, type Passkeys, type Site } from './passkeys.js';

export interface PasskeyRouteDeps {
  passkeys: Passkeys;
  accounts: Accounts;
  activity: Activity;
  devices: Devices;
  /** The public origin; undefined: the origin each request came to. */
  origin: string | undefined;
  csrf: Csrf;
  limits: IpRateLimits;
  timeouts: SessionTimeouts;
  clock: () => number;
}

// The shapes SimpleWebAuthn expects; it checks the contents (encodings, signatures) itself.
const base64url = z.string().min(1).max(8_192).regex(/^[A-Za-z0-9_-]+$/);
const credentialFields = {
  id: base64url,
  rawId: base64url,
  type: z.literal('public-key'),
  clientExtensionResults: z.record(z.string(), z.unknown()),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
};
const signInBody = z.object({
  response: z.object({
    ...credentialFields,
    response: z.object({ clientDataJSON: base64url, authenticatorData: base64url, signature: base64url, userHandle: base64url.optional() }),
  }),
});
const addBody = z.object({
  name: z.string().trim().max(PASSKEY_NAME_MAX_LENGTH).optional(),
  response: z.object({
    ...credentialFields,
    response: z.object({
      clientDataJSON: base64url,
      attestationObject: base64url,
      authenticatorData: base64url.optional(),
      transports: z.array(z.string().max(32)).max(10).optional(),
      publicKeyAlgorithm: z.number().int().optional(),
      publicKey: base64url.optional(),
    }),
  }),
});
const removeBody = z.object({ id: base64url });

export function passkeyRoutes(deps: PasskeyRouteDeps): Router {
  const { passkeys, accounts, activity, devices, csrf, limits, timeouts, clock } = deps;
  const router = Router();
  const guardedPost = guardedPostOf(csrf);
  /**
   * The site of the ceremony: PUBLIC_ORIGIN, else the origin the request came to, from its
   * Host header; a request without one (HTTP/1.0) or with one that is not host[:port] has none.
   */
  const site = (req: Request): Site => {
    if (deps.origin !== undefined) return siteOf(deps.origin);
    const claimed = `${req.protocol}://${req.get('host') ?? ''}`;
    const url = URL.canParse(claimed) ? new URL(claimed) : undefined;
    if (!url || url.href !== `${url.origin}/`) throw new HttpError(400, 'invalid_request');
    return siteOf(url.origin);
  };

  router.post('/passkeys/sign-in/options', limits.challenges, ...guardedPost, async (req, res) => {
    res.json({ ok: true, options: await passkeys.authenticationOptions(site(req)) });
  });

  router.post('/passkeys/sign-in', ...limits.posts, ...guardedPost, async (req, res) => {
    const { response } = parse(signInBody, req.body);
    const client = { network: networkOf(req.ip), deviceFor: (accountId: number) => devices.deviceFor(req, accountId) };
    const user = await passkeys.authenticate(response, site(req), client);
    await completeSignIn({ accounts, activity, devices, timeouts, clock }, req, res, user.id, 'passkey');
    res.json({ ok: true, redirect: '/' });
  });

  router.post('/passkeys/options', limits.challenges, ...guardedPost, async (req, res) => {
    const user = signedInUser(req);
    const options = await passkeys.registrationOptions(user, site(req));
    res.json({ ok: true, options });
  });

  router.post('/passkeys', ...limits.posts, ...guardedPost, async (req, res) => {
    const user = signedInUser(req);
    const body = parse(addBody, req.body);
    const count = (await passkeys.list(user.id)).length;
    const name = body.name || res.locals.t('passkeyDefaultName', { n: String(count + 1) });
    const passkey = await passkeys.register(user, body.response, name, site(req));
    try {
      await activity.record(user.id, { kind: 'passkey_added', network: networkOf(req.ip), detail: passkey.name }, req.log);
    } catch (err) {
      await passkeys.remove(user.id, passkey.id);
      throw err;
    }
    // The new row comes from the same template as the page's, for the page to insert.
    const html = await new Promise<string>((resolve, reject) => {
      res.render('partials/passkey-row', { passkey: passkeyView(passkey, req.locale, res.locals.t) }, (err, out) => (err ? reject(err) : resolve(out)));
    });
    res.status(201).json({ ok: true, id: passkey.id, html, message: res.locals.t('passkeyAdded', { name }) });
  });

  router.post('/passkeys/remove', ...limits.posts, ...guardedPost, async (req, res) => {
    const user = signedInUser(req);
    const { id } = parse(removeBody, req.body);
    const passkey = (await passkeys.list(user.id)).find((candidate) => candidate.id === id);
    if (!passkey || !(await passkeys.remove(user.id, id))) throw new HttpError(404, 'passkey_not_found');
    // Logged by record() when it fails; the removal stands (see the header).
    await activity.record(user.id, { kind: 'passkey_removed', network: networkOf(req.ip), detail: passkey.name }, req.log).catch(() => {});
    res.json({ ok: true, message: res.locals.t('passkeyRemoved', { name: passkey.name }) });
  });

  return router;
}

/** What the home page shows of a passkey; times in UTC, said so. */
export function passkeyView(passkey: Passkey, locale: Locale, t: Translate) {
  const time = utcTimes(locale);
  return {
    id: passkey.id,
    name: passkey.name,
    created: time(passkey.createdAt),
    lastUsed: passkey.lastUsedAt === undefined ? { iso: '', text: t('passkeyNeverUsed') } : time(passkey.lastUsedAt),
  };
}
