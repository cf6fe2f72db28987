/**
 * express-session configured for this app: nothing stored until there is something to
 * keep (an issued captcha or a signed-in user), no rewrite of unchanged sessions, and a
 * cookie that scripts cannot read and other sites do not receive on sub-requests.
 */
import session from 'express-session';
import type { RequestHandler } from 'express';
import './types.js';

export const SESSION_COOKIE_NAME = 'captcha_login.sid';
export const SESSION_MAX_AGE_MS = 8 * 60 * 60 * 1000;

export interface SessionOptions {
  store: session.Store;
  /** Several secrets rotate: the first signs, all verify. */
  secret: string | string[];
  /** Secure cookies need HTTPS; on in production. */
  secureCookies: boolean;
}

export function sessionMiddleware({ store, secret, secureCookies }: SessionOptions): RequestHandler {
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
    cookie: { httpOnly: true, sameSite: 'lax', secure: secureCookies, maxAge: SESSION_MAX_AGE_MS, path: '/' },
  });
}
