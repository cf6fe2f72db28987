/**
 * The shape of this app's session record, declared once for express-session. The
 * captcha's own field (`captcha`) is declared by the captcha (captcha/captcha.ts), which
 * other apps mount too.
 */

declare module 'express-session' {
  interface SessionData {
    /** Set at sign-in, after the session id was regenerated. */
    user?: { id: number; username: string; signedInAt: number };
    /** Last request of a signed-in session (idle timeout). */
    lastSeenAt?: number;
    /** Synchronizer token the pages echo on POST. */
    csrfToken?: string;
  }
}

export {};
