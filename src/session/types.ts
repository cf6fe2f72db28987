/**
 * The shape of this app's session record, declared once for express-session. The
 * captcha's own field (`captcha`) is declared by the captcha (captcha/captcha.ts), which
 * other apps mount too.
 */
import type { SessionClient } from './client.js';

/** The signed-in account, as the session holds it. */
export interface SignedInUser {
  id: number;
  username: string;
  /** When this session signed in (ms since the epoch): the absolute timeout and "recent sign-in" checks read it. */
  signedInAt: number;
}

/**
 * A sign-in whose password was right, waiting for its second factor (src/auth/code-step.ts):
 * its own field, never `user`, so nothing that checks for a signed-in session sees one.
 */
export interface PendingSignIn {
  userId: number;
  username: string;
  /** The fingerprint of the password hash the first step verified (a password changed since is as good as wrong). */
  passwordHash: string;
  /** After this (ms since the epoch) the code step is refused and the password asked for again. */
  expiresAt: number;
  /** Wrong codes tried in this state. */
  tries: number;
}

declare module 'express-session' {
  interface SessionData {
    /** Set at sign-in, after the session id was regenerated. */
    user?: SignedInUser;
    /** The client that signed in (browser, OS, network), set at sign-in with `user`. */
    client?: SessionClient;
    /** Last request of a signed-in session (idle timeout). */
    lastSeenAt?: number;
    /** Synchronizer token the pages echo on POST. */
    csrfToken?: string;
    /** A right password waiting for its TOTP or recovery code. */
    pendingSignIn?: PendingSignIn;
    /** The secret of a TOTP enrolment under way (base32), until a first code confirms it (src/account/two-factor-routes.ts). */
    totpEnrolment?: string;
    /**
     * This session's password change whose new hash was stored but which was not answered
     * as done (src/account/password-routes.ts): the mark its retry is recognised by.
     */
    passwordChangeMark?: { mark: string; until: number };
  }
}
