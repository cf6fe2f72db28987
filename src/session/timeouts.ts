/**
 * Session lifetimes, enforced on the server.
 *
 * Anonymous sessions (made by a captcha image or a form page) live `anonymousMs` after
 * their last request, so a flood of cookieless requests leaves rows that expire quickly
 * and are pruned. A signed-in session ends after `idleMs` without a request or
 * `absoluteMs` after sign-in, whichever comes first; the check uses the session's own
 * timestamps, so it holds whatever the cookie says. lastSeenAt is written at most once a
 * minute, to keep requests from each rewriting the session.
 */
import { promisify } from 'node:util';
import type { Request, RequestHandler } from 'express';
import { requireInteger } from '../options.js';

export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
  anonymousMs: number;
}

export const SESSION_TIMEOUT_DEFAULTS: SessionTimeouts = {
  idleMs: 30 * 60_000,
  absoluteMs: 8 * 60 * 60_000,
  anonymousMs: 10 * 60_000,
};

const LAST_SEEN_RESOLUTION_MS = 60_000;

export function validateSessionTimeouts(options: Partial<SessionTimeouts> = {}): SessionTimeouts {
  const merged = { ...SESSION_TIMEOUT_DEFAULTS, ...options };
  for (const [name, value] of Object.entries(merged)) requireInteger(`session timeout ${name} (ms)`, value, 1000);
  if (merged.idleMs > merged.absoluteMs) throw new RangeError('session timeout idleMs must not exceed absoluteMs');
  return merged;
}

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
      } else if (now - lastSeen >= LAST_SEEN_RESOLUTION_MS) {
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
