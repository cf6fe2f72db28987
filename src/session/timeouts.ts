/**
 * Session lifetimes, enforced on the server.
 *
 * Anonymous sessions (made by a captcha image or a form post) live `anonymousMs` after
 * their last request, so a flood of cookieless requests leaves rows that expire quickly
 * and are pruned. A signed-in session ends after `idleMs` without a request or
 * `absoluteMs` after sign-in, whichever comes first; the check uses the session's own
 * timestamps, so it holds whatever the cookie says. Every request of a signed-in session
 * records its time (the rolling cookie rewrites the row's expiry on each request anyway),
 * so the idle timeout fires neither early nor late.
 */
import { promisify } from 'node:util';
import type { Request, RequestHandler } from 'express';
import type { SessionData } from 'express-session';
import { z } from 'zod';
import { defaultsOf, envInteger } from '../options.js';
import type { SignedInUser } from './types.js';

export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
  anonymousMs: number;
}

export const sessionTimeoutsEnv = z
  .object({
    SESSION_IDLE_MINUTES: envInteger(1, 1440).default(30),
    SESSION_ABSOLUTE_HOURS: envInteger(1, 720).default(8),
    ANONYMOUS_SESSION_MINUTES: envInteger(1, 1440).default(10),
  })
  .superRefine((env, ctx) => {
    if (env.SESSION_IDLE_MINUTES > env.SESSION_ABSOLUTE_HOURS * 60) {
      ctx.addIssue({
        code: 'custom',
        path: ['SESSION_IDLE_MINUTES'],
        message: `must not exceed SESSION_ABSOLUTE_HOURS (${env.SESSION_IDLE_MINUTES} minutes > ${env.SESSION_ABSOLUTE_HOURS} h)`,
      });
    }
  })
  .transform(
    (env): SessionTimeouts => ({
      idleMs: env.SESSION_IDLE_MINUTES * 60_000,
      absoluteMs: env.SESSION_ABSOLUTE_HOURS * 3_600_000,
      anonymousMs: env.ANONYMOUS_SESSION_MINUTES * 60_000,
    }),
  );

export const SESSION_TIMEOUT_DEFAULTS: SessionTimeouts = defaultsOf(sessionTimeoutsEnv);

/**
 * What adds or removes a way into the account (a passkey, two-step verification, a
 * password change without the current password) needs a sign-in at most this long ago:
 * a session left open or stolen later cannot.
 */
export const RECENT_SIGN_IN_MS = 10 * 60_000;

/** Whether the session signed in within RECENT_SIGN_IN_MS of `now`. */
export function signedInRecently(user: SignedInUser, now: number): boolean {
  return now - user.signedInAt <= RECENT_SIGN_IN_MS;
}

/**
 * Whether a signed-in session has outlived its idle or absolute limit at `now`: its next
 * request is signed out (enforceSessionTimeouts), and "where you're signed in" does not
 * list it (src/account/sessions.ts).
 */
export function hasTimedOut(session: Pick<SessionData, 'lastSeenAt'> & { user: SignedInUser }, timeouts: SessionTimeouts, now: number): boolean {
  const { user } = session;
  const lastSeen = session.lastSeenAt ?? user.signedInAt;
  return now - user.signedInAt > timeouts.absoluteMs || now - lastSeen > timeouts.idleMs;
}

/** Ends expired signed-in sessions before any route sees them. */
export function enforceSessionTimeouts(timeouts: SessionTimeouts, clock: () => number): RequestHandler {
  return async (req, _res, next) => {
    const user = req.session.user;
    if (user) {
      const now = clock();
      if (hasTimedOut({ user, lastSeenAt: req.session.lastSeenAt }, timeouts, now)) {
        await promisify(req.session.regenerate.bind(req.session))();
        req.session.cookie.maxAge = timeouts.anonymousMs;
      } else {
        req.session.lastSeenAt = now;
      }
    }
    next();
  };
}

/** Marks the session signed in, with the signed-in cookie lifetime. */
export function startSignedInSession(req: Request, user: { id: number; username: string }, timeouts: SessionTimeouts, now: number): void {
  req.session.user = { id: user.id, username: user.username, signedInAt: now };
  req.session.lastSeenAt = now;
  req.session.cookie.maxAge = timeouts.idleMs;
}
