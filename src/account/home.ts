/**
 * The home page: what a signed-in person sees first, with their passkeys (added and
 * removed from here through passkey-routes.ts). Nobody signed in: to the sign-in page.
 */
import { Router } from 'express';
import { passkeyView } from '../auth/passkey-routes.js';
import type { Passkeys } from '../auth/passkeys.js';
import { noStore } from '../http/guards.js';
import type { Csrf } from '../session/csrf.js';

export interface HomeRouteDeps {
  passkeys: Passkeys;
  csrf: Csrf;
}

export function homeRoutes({ passkeys, csrf }: HomeRouteDeps): Router {
  const router = Router();
  router.get('/', noStore, async (req, res) => {
    const user = req.session.user;
    if (!user) {
      res.redirect(303, '/login');
      return;
    }
    const list = await passkeys.list(user.id);
    res.render('home', {
      username: user.username,
      csrfToken: csrf.tokenFor(req, res),
      passkeys: list.map((passkey) => passkeyView(passkey, req.locale, res.locals.t)),
    });
  });
  return router;
}
