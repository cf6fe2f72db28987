/**
 * Attack mode on the wire: GET /pow-challenge tells the page whether a proof of work is
 * needed now and gives it a challenge to solve; the gate checks the `pow` field of sign-in
 * and sign-up posts. Outside attack mode, and for known devices, nothing is asked or
 * checked. Both refusals (428 pow_required without a proof, 400 pow_invalid for a bad,
 * expired or spent one) carry a fresh challenge, so a client solves it and sends the same
 * form again: the gate runs before the captcha is spent.
 *
 * The page asks before anyone typed a name, so it cannot know whether the person will be a
 * known device of the account they sign in to. A browser that presents a device cookie we
 * signed is told `required: false`: it sends its form at once, and in the rare case that
 * it is not a known device of the account typed, the post's 428 brings a challenge to
 * solve. So a person on a known device never waits for a proof of work, and nothing is
 * skipped: the post itself checks the account (PowGate.check).
 */
import { Router, type RequestHandler } from 'express';
import { HttpError } from '../http/errors.js';
import type { Devices } from '../auth/devices.js';
import type { AttackMode } from './attack-mode.js';
import type { Pow } from './pow.js';

export const POW_CHALLENGE_PATH = '/pow-challenge';

export interface PowGate {
  /** Resolves when the post may go on; throws the 428/400 HttpError (with a fresh challenge) when it may not. */
  check(payload: string | undefined, known: boolean): Promise<void>;
}

export function createPowGate(attackMode: AttackMode, pow: Pow): PowGate {
  return {
    async check(payload, known) {
      if (known) return;
      const { on, level } = await attackMode.state();
      if (!on) return;
      if (payload === undefined) throw new HttpError(428, 'pow_required', undefined, { pow: { challenge: await pow.challenge(level) } });
      // A person's solve may span one step of the level; a challenge older than that is refused.
      if ((await pow.verify(payload, level - 1)) !== 'ok') throw new HttpError(400, 'pow_invalid', undefined, { pow: { challenge: await pow.challenge(level) } });
    },
  };
}

export function powRoutes(deps: { attackMode: AttackMode; pow: Pow; devices: Pick<Devices, 'presents'>; limit: RequestHandler }): Router {
  const router = Router();
  router.get(POW_CHALLENGE_PATH, deps.limit, async (req, res) => {
    res.set('Cache-Control', 'no-store');
    if (deps.devices.presents(req)) {
      res.json({ ok: true, required: false });
      return;
    }
    const { on, level } = await deps.attackMode.state();
    res.json(on ? { ok: true, required: true, challenge: await deps.pow.challenge(level) } : { ok: true, required: false });
  });
  return router;
}
