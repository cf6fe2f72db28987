/**
 * The shape of this app's session record, declared once for express-session.
 */
import type { ChallengeSlots } from '../captcha/challenges.js';

declare module 'express-session' {
  interface SessionData {
    /** Set at sign-in, after the session id was regenerated. */
    user?: { id: number; username: string; signedInAt: number };
    /** Last request of a signed-in session (idle timeout). */
    lastSeenAt?: number;
    /** Outstanding captchas, keyed by the page (tab) that asked for them. */
    captcha?: ChallengeSlots;
    /** Synchronizer token the pages echo on POST. */
    csrfToken?: string;
  }
}

export {};
