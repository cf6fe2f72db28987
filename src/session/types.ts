/**
 * The shape of this app's session record, declared once for express-session.
 */
import type { ChallengeSlots } from '../captcha/challenges.js';

declare module 'express-session' {
  interface SessionData {
    /** Set at sign-in, after the session id was regenerated. */
    user?: { id: number; username: string };
    /** Outstanding captchas, keyed by the page (tab) that asked for them. */
    captcha?: ChallengeSlots;
  }
}

export {};
