/**
 * The "where you're signed in" page and its posts: GET /account/sessions lists the
 * account's live sessions (sessions.ts), POST /account/sessions/revoke signs one of them
 * out by its handle, POST /account/sessions/revoke-others every one but this. Posts pass
 * the per-IP limits of the form posts and the guards of every state-changing post; a
 * session that is not signed in gets 401 signed_out (the page: to the sign-in page).
 *
 * Signing sessions out is recorded in the account's activity (activity.ts). It stands even
 * when its row cannot be written, and is answered as done (the log line says what
 * happened): it took ways in away, and a 503 would tell the person it had not.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { guardedPostOf, noStore, parse, signedInUser } from '../http/guards.js';
import type { IpRateLimits } from '../http/rate-limits.js';
import type { Locale, Translate } from '../i18n/messages.js';
import { utcTimes } from '../i18n/time.js';
import type { Csrf } from '../session/csrf.js';
import { networkOf } from '../auth/lockout.js';
import type { Activity } from './activity.js';
import { SESSION_HANDLE_PATTERN, type AccountSessions, type SessionView } from './sessions.js';

export const SESSIONS_PATH = '/account/sessions';

export interface SessionsRouteDeps {
  sessions: AccountSessions;
  activity: Activity;
  csrf: Csrf;
  limits: IpRateLimits;
  clock: () => number;
}

const revokeBody = z.object({ id: z.string().regex(SESSION_HANDLE_PATTERN) });

/** A session as its row shows it: what it is, in the page's language (times in UTC, which the page script shows in the browser's time zone). */
function rowOf(session: SessionView, locale: Locale, t: Translate) {
  const time = utcTimes(locale);
  const { browser, os, network } = session.client;
  return {
    id: session.id,
    current: session.current,
    device: t('sessionsBrowserOnOs', { browser: browser ?? t('sessionsUnknownBrowser'), os: os ?? t('sessionsUnknownOs') }),
    network: network === 'unknown' ? t('sessionsUnknownNetwork') : network,
    signedIn: time(session.signedInAt),
    lastSeen: time(session.lastSeenAt),
  };
}

export function sessionsRoutes({ sessions, activity, csrf, limits, clock }: SessionsRouteDeps): Router {
  const router = Router();
  const guardedPost = guardedPostOf(csrf);
  /** Records how many sessions a post signed out; the sign-out stands whatever happens here (see the header). */
  const recordSignOut = async (req: Request, userId: number, count: number) => {
    if (count > 0) await activity.record(userId, { kind: 'sessions_revoked', network: networkOf(req.ip), detail: String(count) }, req.log).catch(() => {});
  };

  router.get(SESSIONS_PATH, noStore, async (req, res) => {
    const user = req.session.user;
    if (!user) {
      res.redirect(303, '/login');
      return;
    }
    const list = await sessions.list(user.id, req.sessionID, clock());
    res.render('sessions', { csrfToken: csrf.tokenFor(req, res), sessions: list.map((session) => rowOf(session, req.locale, res.locals.t)) });
  });

  router.post(`${SESSIONS_PATH}/revoke`, ...limits.posts, ...guardedPost, async (req, res) => {
    const user = signedInUser(req);
    const { id } = parse(revokeBody, req.body);
    await sessions.revoke(user.id, id, req.sessionID, clock());
    await recordSignOut(req, user.id, 1);
    res.json({ ok: true, message: res.locals.t('sessionsSignedOut') });
  });

  router.post(`${SESSIONS_PATH}/revoke-others`, ...limits.posts, ...guardedPost, async (req, res) => {
    const user = signedInUser(req);
    parse(z.object({}).strict(), req.body);
    const count = await sessions.revokeOthers(user.id, req.sessionID);
    await recordSignOut(req, user.id, count);
    res.json({ ok: true, count, message: res.locals.t('sessionsSignedOutOthers', { n: String(count) }) });
  });

  return router;
}
