/**
 * Cross-site request forgery defences for the state-changing POSTs.
 *
 * Two independent checks: a synchronizer token that the page echoes (jQuery sends it in
 * the X-CSRF-Token header; the no-script sign-out form in a hidden field), and the
 * browser's own word on where the request comes from (Sec-Fetch-Site, else Origin),
 * which refuses cross-site posts even before the token is read.
 *
 * Where the token lives:
 * - signed in: in the session, which exists anyway;
 * - anonymous (sign-in and sign-up pages): in a signed cookie, `<token>.<issued at>`,
 *   valid for PAGE_TOKEN_TTL_MS (a double-submit token: another site can neither read
 *   nor set it). So a page view writes no session row (a flood of page views fills
 *   nothing), and the token does not change when sign-in in another tab replaces the
 *   session. Each page view renews the cookie's time but keeps its token, so every
 *   open tab's token stays good.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { HttpError } from '../http/errors.js';

/** Where a page whose token went stale (it outlived the page cookie) fetches a fresh one (public/js/api.js). */
export const CSRF_TOKEN_PATH = '/csrf-token';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';
export const CSRF_COOKIE = 'captcha_login.csrf';
export const PAGE_TOKEN_TTL_MS = 2 * 60 * 60_000;
/**
 * Instances' clocks differ a little: a page cookie issued by one whose clock runs ahead is
 * checked by another a moment "before" it was issued. Without this allowance the post is
 * refused (csrf_failed), and so is its retry with a fresh token from the faster instance.
 */
export const CLOCK_SKEW_MS = 60_000;

export interface CsrfOptions {
  /** Secure cookies need HTTPS; on in production. */
  secureCookies: boolean;
  clock: () => number;
}

export interface Csrf {
  /** The token a page must echo: the session's when signed in, else the page cookie's (set or renewed here). */
  tokenFor(req: Request, res: Response): string;
  /** Refuses a post whose echoed token matches neither the session's nor a valid page cookie's. */
  require: RequestHandler;
}

const newToken = () => randomBytes(24).toString('base64url');

/** Needs cookie-parser (with the session secrets) in front, for req.signedCookies. */
export function createCsrf({ secureCookies, clock }: CsrfOptions): Csrf {
  const pageToken = (req: Request): string | undefined => {
    const value: unknown = (req.signedCookies as Record<string, unknown>)[CSRF_COOKIE];
    if (typeof value !== 'string') return undefined;
    const [token, issuedAt] = value.split('.');
    const age = clock() - Number(issuedAt);
    return token && age >= -CLOCK_SKEW_MS && age <= PAGE_TOKEN_TTL_MS ? token : undefined;
  };

  return {
    tokenFor(req, res) {
      if (req.session.user) {
        req.session.csrfToken ??= newToken();
        return req.session.csrfToken;
      }
      const token = pageToken(req) ?? newToken();
      res.cookie(CSRF_COOKIE, `${token}.${clock()}`, {
        signed: true,
        httpOnly: true,
        sameSite: 'strict',
        secure: secureCookies,
        maxAge: PAGE_TOKEN_TTL_MS,
        path: '/',
      });
      return token;
    },
    require(req, _res, next) {
      const body: unknown = req.body;
      const field = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[CSRF_FIELD] : undefined;
      const sent = req.get(CSRF_HEADER) ?? field;
      const expected = [req.session.csrfToken, pageToken(req)].filter((token) => token !== undefined);
      if (typeof sent !== 'string' || !expected.some((token) => equal(sent, token))) throw new HttpError(403, 'csrf_failed');
      next();
    },
  };
}

/** Refuses requests that the browser says come from another site. */
export const requireSameOrigin: RequestHandler = (req, _res, next) => {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) {
    if (site !== 'same-origin' && site !== 'none') throw new HttpError(403, 'cross_site_request');
    next();
    return;
  }
  const origin = req.get('origin');
  if (origin !== undefined && !sameHost(origin, req.get('host'))) throw new HttpError(403, 'cross_site_request');
  next();
};

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** GET CSRF_TOKEN_PATH: a fresh token for the page asking (never cached). */
export function csrfTokenRoutes(csrf: Csrf): Router {
  const router = Router();
  router.get(CSRF_TOKEN_PATH, (req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json({ ok: true, token: csrf.tokenFor(req, res) });
  });
  return router;
}
