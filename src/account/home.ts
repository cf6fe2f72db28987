/**
 * The home page: what a signed-in person sees first: how the account is secured (two-step
 * verification on or off, how many sessions are signed in, each linking to its page),
 * their passkeys (added and removed from here through passkey-routes.ts) and their recent
 * activity (activity.ts), with where to go when something there was not them. Nobody
 * signed in: to the sign-in page.
 *
 * The server knows the person's language but not their time zone: each event's time is
 * a <time datetime> written in UTC, which public/js/activity.js rewrites in the browser's
 * own zone (Intl); without scripts the UTC text stays, and says so.
 */
import { Router } from 'express';
import { passkeyView } from '../auth/passkey-routes.js';
import type { Passkeys } from '../auth/passkeys.js';
import type { TwoFactor } from '../auth/totp.js';
import { activityView, HOME_ACTIVITY_COUNT, type Activity } from './activity.js';
import type { AccountSessions } from './sessions.js';
import { noStore } from '../http/guards.js';
import type { Csrf } from '../session/csrf.js';

export interface HomeRouteDeps {
  passkeys: Passkeys;
  activity: Activity;
  twoFactor: Pick<TwoFactor, 'status'>;
  sessions: Pick<AccountSessions, 'list'>;
  csrf: Csrf;
  clock: () => number;
}

export function homeRoutes({ passkeys, activity, twoFactor, sessions, csrf, clock }: HomeRouteDeps): Router {
  const router = Router();
  router.get('/', noStore, async (req, res) => {
    const user = req.session.user;
    if (!user) {
      res.redirect(303, '/login');
      return;
    }
    const [list, events, factor, live] = await Promise.all([
      passkeys.list(user.id),
      activity.latest(user.id),
      twoFactor.status(user.id),
      sessions.list(user.id, req.sessionID, clock()),
    ]);
    res.render('home', {
      twoFactorOn: factor !== undefined,
      sessionCount: String(live.length),
      activity: events.map((event) => activityView(event, req.locale, res.locals.t)),
      activityCount: String(HOME_ACTIVITY_COUNT),
      username: user.username,
      csrfToken: csrf.tokenFor(req, res),
      passkeys: list.map((passkey) => passkeyView(passkey, req.locale, res.locals.t)),
    });
  });
  return router;
}
