/**
 * Paying a proof of work as any ALTCHA v2 client does: altcha-lib's solveChallenge, and
 * the payload its widget sends (base64 of JSON {challenge, solution}).
 */
import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import type { AttackMode, AttackState } from '../../src/attack/attack-mode.js';

export async function payPow(challenge: Challenge): Promise<string> {
  const solution = await solveChallenge({ challenge, deriveKey });
  if (!solution) throw new Error('the challenge was not solved');
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

/** A stand-in detector in the state a test sets (createApp's attackMode seam); it keeps the outcomes it is told. */
export function fixedAttackMode(initial: AttackState): AttackMode & { outcomes: boolean[]; set: (state: AttackState) => void } {
  const outcomes: boolean[] = [];
  let current = initial;
  return {
    outcomes,
    set: (state) => void (current = state),
    state: async () => current,
    last: () => ({ ...current, unavailable: false }),
    recordUnknownOutcome: async (failed) => void outcomes.push(failed),
  };
}

export const ATTACK_OFF: AttackState = { on: false, level: 0 };

export const ATTACK_ON: AttackState = { on: true, level: 1 };
