/**
 * Cross-site request forgery defences for the state-changing POSTs.
 *
 * Two independent checks: a synchronizer token kept in the session and echoed by the page
 * (jQuery sends it in the X-CSRF-Token header; the no-script sign-out form in a hidden
 * field), and the browser's own word on where the request comes from (Sec-Fetch-Site,
 * else Origin), which refuses cross-site posts even before the session is read.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { HttpError } from '../http/errors.js';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

/** The session's token, created on first use. */
export function csrfToken(req: Request): string {
  req.session.csrfToken ??= randomBytes(24).toString('base64url');
  return req.session.csrfToken;
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

export const requireCsrfToken: RequestHandler = (req, _res, next) => {
  const expected = req.session.csrfToken;
  const body: unknown = req.body;
  const field = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[CSRF_FIELD] : undefined;
  const sent = req.get(CSRF_HEADER) ?? field;
  if (expected === undefined || typeof sent !== 'string' || !equal(sent, expected)) throw new HttpError(403, 'csrf_failed');
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
