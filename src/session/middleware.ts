/**
 * express-session configured for this app: nothing stored until there is something to
 * keep (an issued captcha or a signed-in user; a form page's CSRF token lives in a
 * cookie, see csrf.ts), no rewrite of
 * unchanged sessions, and a cookie that scripts cannot read and other sites do not get on
 * sub-requests. The cookie is rolling, so its expiry (and the store row's) follows the
 * last request: anonymous sessions then die quickly, signed-in ones after the idle time.
 */
import session from 'express-session';
import type { RequestHandler } from 'express';
import type { SessionTimeouts } from './timeouts.js';
import './types.js';

export const SESSION_COOKIE_NAME = 'captcha_login.sid';

export interface SessionOptions {
  store: session.Store;
  /** Several secrets rotate: the first signs, all verify. */
  secret: string | string[];
  /** Secure cookies need HTTPS; on in production. */
  secureCookies: boolean;
  timeouts: SessionTimeouts;
}

export function sessionMiddleware({ store, secret, secureCookies, timeouts }: SessionOptions): RequestHandler {
  const secrets = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0 || secrets.some((value) => value.length < 32)) {
    throw new RangeError('session secret must be at least 32 characters');
  }
  return session({
    name: SESSION_COOKIE_NAME,
    store,
    secret: secrets,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: secureCookies, maxAge: timeouts.anonymousMs, path: '/' },
  });
}
