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
import { z } from 'zod';
import { defaultsOf, envInteger } from '../options.js';

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

/** Ends expired signed-in sessions before any route sees them. */
export function enforceSessionTimeouts(timeouts: SessionTimeouts, clock: () => number): RequestHandler {
  return async (req, _res, next) => {
    const user = req.session.user;
    if (user) {
      const now = clock();
      const lastSeen = req.session.lastSeenAt ?? user.signedInAt;
      if (now - user.signedInAt > timeouts.absoluteMs || now - lastSeen > timeouts.idleMs) {
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
