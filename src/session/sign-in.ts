/**
 * Signing a session in, whatever proved who the person is (a password, a passkey): a
 * fresh session id, so an id planted before sign-in is worthless after. The captchas
 * other tabs are showing move to the new session, so those tabs still work. The session
 * records the client that signed in (browser, system, network) for "where you're signed
 * in" (src/account/sessions.ts).
 */
import { promisify } from 'node:util';
import type { Request } from 'express';
import { clientOf } from './client.js';
import { startSignedInSession, type SessionTimeouts } from './timeouts.js';

export async function signIn(req: Request, user: { id: number; username: string }, timeouts: SessionTimeouts, now: number): Promise<void> {
  const otherTabs = req.session.captcha;
  await promisify(req.session.regenerate.bind(req.session))();
  req.session.captcha = otherTabs;
  startSignedInSession(req, user, timeouts, now);
  req.session.client = clientOf(req);
  await promisify(req.session.save.bind(req.session))();
}
