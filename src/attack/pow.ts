/**
 * The proof of work unknown clients pay in attack mode: ALTCHA v2 challenges made and
 * checked with altcha-lib, so any ALTCHA v2 solver can pay them (the page's worker, or
 * altcha-lib's solveChallenge from Node).
 *
 * Algorithm PBKDF2/SHA-256: browsers run it natively through Web Crypto (one deriveBits
 * call per try), so a person's browser is as fast per core as a bot's Node. Challenges are
 * deterministic (altcha-lib's `counter` with a key signature): the server picks the
 * counter, derives its key once when it makes the challenge (`iterations` of PBKDF2, well
 * under a millisecond), and verifying a solution is two HMACs, before the captcha and any
 * password hashing. The solver must try counters from 0 up until the derived key matches
 * the 16-byte prefix, so a challenge costs it (counter + 1) × `iterations`. The counter is
 * uniform in [0, counterMax), counterMax doubling with each level: with a uniform counter,
 * giving up on a challenge and asking for another saves nothing, and a known lower bound
 * would only be skipped by a bot while people paid it. The expected cost is half the
 * worst case; counterMax is signed into the challenge's data so the page can show progress.
 *
 * Each challenge is signed (HMAC secrets derived from the session secret), expires after
 * `ttlMs`, and is good once: after it verifies, its nonce is claimed in the shared
 * SpentChallengeLedger, so a replay is refused on every instance. Expiry is checked
 * against the app's clock (altcha-lib checks it against the system clock as well).
 */
import { createHmac, randomInt } from 'node:crypto';
import { createChallenge, verifySolution, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { z } from 'zod';
import type { SpentChallengeLedger } from '../storage/ports.js';

export const POW_ALGORITHM = 'PBKDF2/SHA-256';

export interface PowCost {
  /** PBKDF2 iterations per try. */
  iterations: number;
  /** The counter's bound at level 1 (exclusive); level n has 2^(n-1) times as much. */
  counterMax: number;
  ttlMs: number;
}

/**
 * Measured on the 2-core test machine: altcha-lib's solveChallenge in Node makes 1,300–2,000
 * tries of 2,000 iterations per CPU-second, so level 1 (4,096 tries on average, 8,192 at
 * worst) costs a Node solver 2–3 CPU-seconds on average, and each level doubles it.
 * Debian's Chromium (Web Crypto, two workers) made up to 3,700 tries a second, so a person
 * waits about 1.1 s on average at level 1 (2.2 s at worst) and 9 s (18 s at worst) at
 * level 4, ATTACK_MODE_MAX_LEVEL's default: inside the minute a person on a new device
 * has, with room for a slower or busier device. Making a challenge costs the server one
 * try (under 1 ms).
 */
export const POW_DEFAULTS: PowCost = { iterations: 2_000, counterMax: 8_192, ttlMs: 5 * 60_000 };

/** The most a payload may be: a challenge and a solution, base64 JSON, with room to spare. */
export const POW_PAYLOAD_MAX_LENGTH = 4_096;

export type PowVerdict = 'ok' | 'invalid';

export interface Pow {
  /** A fresh challenge at `level` (1 or more). */
  challenge(level: number): Promise<Challenge>;
  /**
   * Checks a payload (base64 of JSON {challenge, solution}) and spends its challenge. One
   * made below `minLevel` is refused (not spent): challenges hoarded while the level was
   * low must not pay for guesses once it has risen.
   */
  verify(payload: string, minLevel: number): Promise<PowVerdict>;
}

const HEX = /^[0-9a-f]+$/;

/** What the payload must look like before altcha-lib checks it (it would throw on other shapes). */
const payloadSchema = z.object({
  challenge: z.object({
    parameters: z.looseObject({
      algorithm: z.literal(POW_ALGORITHM),
      nonce: z.string().regex(HEX).max(64),
      expiresAt: z.number(),
      data: z.looseObject({ level: z.number().int() }),
    }),
    signature: z.string().regex(HEX).max(256),
  }),
  solution: z.looseObject({ counter: z.number().int().nonnegative(), derivedKey: z.string().regex(HEX).max(256) }),
});

/** A secret of its own for each use, derived from the session secret (one that rotates out ends open challenges, which live 5 minutes). */
export function powSecret(sessionSecret: string | string[], purpose: 'challenge' | 'key'): string {
  const current = Array.isArray(sessionSecret) ? sessionSecret[0] : sessionSecret;
  if (!current) throw new Error('powSecret: no session secret');
  return createHmac('sha256', current).update(`captcha-login altcha ${purpose} v1`).digest('hex');
}

export function createPow(deps: { sessionSecret: string | string[]; ledger: SpentChallengeLedger; clock: () => number; cost: PowCost }): Pow {
  const { ledger, clock, cost } = deps;
  const hmacSignatureSecret = powSecret(deps.sessionSecret, 'challenge');
  const hmacKeySignatureSecret = powSecret(deps.sessionSecret, 'key');
  return {
    async challenge(level) {
      const counterMax = cost.counterMax * 2 ** (level - 1);
      return createChallenge({
        algorithm: POW_ALGORITHM,
        cost: cost.iterations,
        counter: randomInt(0, counterMax),
        deriveKey,
        data: { counterMax, level },
        expiresAt: Math.floor((clock() + cost.ttlMs) / 1000),
        hmacSignatureSecret,
        hmacKeySignatureSecret,
      });
    },
    async verify(payload, minLevel) {
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
      } catch {
        return 'invalid';
      }
      const parsed = payloadSchema.safeParse(decoded);
      if (!parsed.success) return 'invalid';
      const { nonce, expiresAt, data } = parsed.data.challenge.parameters;
      const expiresAtMs = expiresAt * 1000;
      // The level is signed with the rest of the parameters (checked below).
      if (expiresAtMs <= clock() || data.level < minLevel) return 'invalid';
      // The payload as it came: the signature covers its parameters exactly as sent.
      const { challenge, solution } = decoded as { challenge: Challenge; solution: { counter: number; derivedKey: string } };
      const result = await verifySolution({
        challenge,
        solution,
        deriveKey,
        hmacSignatureSecret,
        hmacKeySignatureSecret,
      });
      // Only a verified challenge is written to the ledger, so garbage cannot fill it.
      if (!result.verified) return 'invalid';
      return (await ledger.claim(`pow:${nonce}`, expiresAtMs)) ? 'ok' : 'invalid';
    },
  };
}
