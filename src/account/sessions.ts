/**
 * "Where you're signed in": an account's live sessions, and signing them out, on the
 * session store's index (SessionIndex). The web page (sessions-routes.ts) and the CLI
 * (user:sessions) both go through here.
 *
 * A session is named to the page by a handle, the SHA-256 of its id cut to 22
 * base64url characters (132 bits), never by the id itself: the list is shown in a page
 * and sent back in posts, and a session id, with the secret, is a cookie. Revoking looks the handle up
 * among the account's own live sessions, then destroys that one only if it is still the
 * account's (destroyFor, one atomic step): a handle of another account's session, or of
 * none, is refused as not found and changes nothing. Destroying leaves the store's
 * tombstone, so a revoked session is signed out at its next request on every instance,
 * and a request of it still running cannot write it back.
 *
 * A session is live while the store keeps it and the timeouts (timeouts.ts) would still
 * let its next request through: one past its idle or absolute limit is not listed.
 */
import { createHash } from 'node:crypto';
import { RefusedError } from '../errors.js';
import type { SessionClient } from '../session/client.js';
import { hasTimedOut, type SessionTimeouts } from '../session/timeouts.js';
import type { AccountSession, SessionIndex } from '../storage/ports.js';

/** A session as the page and the CLI show it. */
export interface SessionView {
  /** The handle that names it in revoke(); not its id. */
  id: string;
  /** It is the session asking. */
  current: boolean;
  client: SessionClient;
  signedInAt: number;
  lastSeenAt: number;
}

/** What a handle looks like: 22 base64url characters (132 bits). */
export const SESSION_HANDLE_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export class SessionNotFoundError extends RefusedError {
  override name = 'SessionNotFoundError';
  constructor() {
    super('session_not_found', 'not_found');
  }
}

/** Revoking the session that asks is signing out, which has its own button (and post). */
export class CurrentSessionError extends RefusedError {
  override name = 'CurrentSessionError';
  constructor() {
    super('session_is_current', 'invalid');
  }
}

export interface AccountSessions {
  /** The account's live sessions at `now`, the one asking (`currentSid`) first, then the most recently seen. */
  list(userId: number, currentSid: string | undefined, now: number): Promise<SessionView[]>;
  /**
   * Signs out the account's session named by `handle`. Throws SessionNotFoundError when
   * no live session of the account has it, CurrentSessionError for the one asking.
   */
  revoke(userId: number, handle: string, currentSid: string, now: number): Promise<void>;
  /** Signs out every session of the account but `currentSid`; resolves how many went. */
  revokeOthers(userId: number, currentSid: string): Promise<number>;
  /** Signs out every session of the account (an operator's command); resolves how many went. */
  revokeAll(userId: number): Promise<number>;
}

/** The handle of a session id. */
export function handleOf(sid: string): string {
  return createHash('sha256').update(sid).digest('base64url').slice(0, 22);
}

export function createAccountSessions(index: SessionIndex, timeouts: SessionTimeouts): AccountSessions {
  /** The account's sessions that the timeouts would still let in at `now`. */
  const liveOf = async (userId: number, now: number): Promise<AccountSession[]> =>
    (await index.listFor(userId, now)).filter(({ data }) => {
      const user = data.user;
      return user !== undefined && !hasTimedOut({ user, lastSeenAt: data.lastSeenAt }, timeouts, now);
    });

  return {
    async list(userId, currentSid, now) {
      const views = (await liveOf(userId, now)).map(({ sid, data }): SessionView => {
        const signedInAt = data.user?.signedInAt ?? 0;
        return {
          id: handleOf(sid),
          current: sid === currentSid,
          client: data.client ?? { network: 'unknown' },
          signedInAt,
          lastSeenAt: data.lastSeenAt ?? signedInAt,
        };
      });
      return views.sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt - a.lastSeenAt);
    },
    async revoke(userId, handle, currentSid, now) {
      if (handle === handleOf(currentSid)) throw new CurrentSessionError();
      const session = (await liveOf(userId, now)).find(({ sid }) => handleOf(sid) === handle);
      // destroyFor checks the account again in the store's own atomic step.
      if (!session || !(await index.destroyFor(userId, session.sid))) throw new SessionNotFoundError();
    },
    revokeOthers: (userId, currentSid) => index.destroyAllFor(userId, currentSid),
    revokeAll: (userId) => index.destroyAllFor(userId),
  };
}
