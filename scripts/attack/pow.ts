/**
 * Paying a proof of work for real, as the page's worker does: altcha-lib v2's
 * solveChallenge with the key derivation the challenge names, then the payload the
 * server's `pow` body field takes. The CPU it burns is the process's own (PBKDF2 and
 * scrypt run in libuv's pool, SHA on the event loop), so process.cpuUsage() counts it.
 */
import { solveChallenge, type Challenge, type DeriveKeyFunction, type Solution } from 'altcha-lib';

/** A solve that takes longer than this is abandoned (the post is then not sent). */
const SOLVE_TIMEOUT_MS = 60_000;

async function deriveKeyFor(algorithm: string): Promise<DeriveKeyFunction> {
  if (algorithm.startsWith('PBKDF2/')) return (await import('altcha-lib/algorithms/pbkdf2')).deriveKey;
  if (algorithm.startsWith('SHA-')) return (await import('altcha-lib/algorithms/sha')).deriveKey;
  if (algorithm === 'SCRYPT') return (await import('altcha-lib/algorithms/scrypt')).deriveKey;
  if (algorithm === 'ARGON2ID') return (await import('altcha-lib/algorithms/argon2id')).deriveKey;
  throw new Error(`proof of work: unknown algorithm ${algorithm}`);
}

/**
 * The body field `pow`: base64 of JSON {challenge, solution}, which is what altcha-lib's
 * own verify() (frameworks/shared.js: JSON.parse(atob(payload))) reads and what the ALTCHA
 * widget submits. If the server branch settles on another shape, this is the one place to change.
 */
export function encodePowPayload(challenge: Challenge, solution: Solution): string {
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

/**
 * Solves the challenge and returns the payload to send, with how long it took. `lanes`
 * solvers try interleaved counters at once (altcha-lib's counterStart/counterStep), as the
 * page runs one worker per core: the work is the same, the wait shorter.
 */
export async function payProofOfWork(challenge: Challenge, lanes = 1): Promise<{ payload: string; ms: number }> {
  const started = performance.now();
  const deriveKey = await deriveKeyFor(challenge.parameters.algorithm);
  const controller = new AbortController();
  const solutions = Array.from({ length: lanes }, (_, lane) =>
    solveChallenge({ challenge, deriveKey, controller, counterStart: lane, counterStep: lanes, timeout: SOLVE_TIMEOUT_MS }).then((solution) => {
      if (!solution) throw new Error(`proof of work: no solution within ${SOLVE_TIMEOUT_MS} ms`);
      controller.abort();
      return solution;
    }),
  );
  const solution = await Promise.any(solutions).catch(() => {
    throw new Error(`proof of work: no solution within ${SOLVE_TIMEOUT_MS} ms`);
  });
  return { payload: encodePowPayload(challenge, solution), ms: performance.now() - started };
}

/** The challenge in an answer body (`{pow: {challenge}}` on 428/400, `{required, challenge}` from GET /pow-challenge). */
export function challengeIn(body: unknown): Challenge | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as { challenge?: unknown; pow?: { challenge?: unknown } };
  const challenge = record.pow?.challenge ?? record.challenge;
  if (typeof challenge !== 'object' || challenge === null || !('parameters' in challenge)) return undefined;
  return challenge as Challenge;
}
