/**
 * Attack mode on the wire: GET /pow-challenge tells the page whether a proof of work is
 * needed now and gives it a challenge to solve; the gate checks the `pow` field of sign-in
 * and sign-up posts. Outside attack mode, and for known devices, nothing is asked or
 * checked. Both refusals (428 pow_required without a proof, 400 pow_invalid for a bad,
 * expired or spent one) carry a fresh challenge, so a client solves it and sends the same
 * form again: the gate runs before the captcha is spent.
 */
import { Router, type RequestHandler } from 'express';
import { HttpError } from '../http/errors.js';
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
      if ((await pow.verify(payload)) !== 'ok') throw new HttpError(400, 'pow_invalid', undefined, { pow: { challenge: await pow.challenge(level) } });
    },
  };
}

export function powRoutes(deps: { attackMode: AttackMode; pow: Pow; limit: RequestHandler }): Router {
  const router = Router();
  router.get(POW_CHALLENGE_PATH, deps.limit, async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    const { on, level } = await deps.attackMode.state();
    res.json(on ? { ok: true, required: true, challenge: await deps.pow.challenge(level) } : { ok: true, required: false });
  });
  return router;
}
