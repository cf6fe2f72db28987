/**
 * Holds sign-ins at their lockout step (after they were admitted to password hashing,
 * before the hash), so a test can see what happens to others meanwhile, with no sleeps:
 * pass `wrap` as build()'s `failedLogins`, then `hold()` before sending the request.
 */
import type { AttemptCount, FailedLoginStore } from '../../src/storage/ports.js';

export function holdableFailedLogins(holds: (counts: readonly AttemptCount[]) => boolean = () => true) {
  let holding: Promise<void> | undefined;
  let entered = () => {};
  return {
    wrap: (real: FailedLoginStore): FailedLoginStore => ({
      tryAttempt: async (counts, now) => {
        if (holding && holds(counts)) {
          entered();
          await holding;
        }
        return real.tryAttempt(counts, now);
      },
      refund: (reservation) => real.refund(reservation),
      clear: (key) => real.clear(key),
      clearPrefixed: (prefix) => real.clearPrefixed(prefix),
    }),
    /** Holds the attempts that come next; `entered` resolves once one is held; release() lets them all go and holds no more. */
    hold(): { entered: Promise<void>; release: () => void } {
      let release = () => {};
      holding = new Promise((resolve) => {
        release = () => {
          holding = undefined;
          resolve();
        };
      });
      return { entered: new Promise((resolve) => (entered = resolve)), release };
    },
  };
}
