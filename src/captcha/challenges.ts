/**
 * The captcha challenge model: which answers a session may still use, and the rules for
 * using one.
 *
 * A session holds a few outstanding challenges, one per page (tab) that showed an image,
 * keyed by an id the page was rendered with. A challenge is:
 * - one-time: the first attempt that names it removes it, right or wrong, and also claims
 *   its random id in a shared ledger with an atomic insert. express-session does not lock,
 *   so two simultaneous requests may both load a session that still holds the challenge;
 *   only the one whose claim inserts the id may pass;
 * - expiring: an answer older than the TTL fails with its own reason;
 * - heard, not only seen: its audio (findChallenge) reads it without spending it, so the
 *   picture and the sound are one challenge under one TTL;
 * - closed by default: no session, no challenge or an empty answer fails;
 * - compared case-insensitively and in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SpentChallengeLedger } from '../storage/ports.js';
import { normaliseAnswer } from './code.js';

export interface StoredChallenge {
  /**
   * Random id, claimed in the spent ledger when the challenge is used. It also keys the
   * randomness of the challenge's sound (audio.ts), so it must never reach the client.
   */
  id: string;
  answer: string;
  issuedAt: number;
}

export type ChallengeSlots = Record<string, StoredChallenge>;


export type VerifyFailure = 'missing' | 'expired' | 'wrong';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

/** A page's key for its slot: what the page sends back, never the challenge's own id. */
export const SLOT_KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function newSlotKey(): string {
  return randomBytes(12).toString('base64url');
}

/** Returns the slots with a new challenge for `slot`, keeping at most `maxOutstanding`. */
export function issueChallenge(
  slots: ChallengeSlots | undefined,
  slot: string,
  answer: string,
  now: number,
  maxOutstanding: number,
): ChallengeSlots {
  const kept = Object.entries(slots ?? {})
    .filter(([key]) => key !== slot)
    .sort(([, a], [, b]) => b.issuedAt - a.issuedAt)
    .slice(0, maxOutstanding - 1);
  const challenge: StoredChallenge = { id: randomBytes(16).toString('base64url'), answer, issuedAt: now };
  return Object.fromEntries([...kept, [slot, challenge]]);
}

/** Takes the slot's challenge out of `slots` (mutating it): it is spent whatever follows. */
export function takeChallenge(slots: ChallengeSlots | undefined, slot: string): StoredChallenge | undefined {
  if (!slots || !Object.hasOwn(slots, slot)) return undefined;
  const challenge = slots[slot];
  delete slots[slot];
  return challenge;
}

const isExpired = (challenge: StoredChallenge, now: number, ttlMs: number) => now - challenge.issuedAt > ttlMs;

export type FindFailure = Exclude<VerifyFailure, 'wrong'>;
export type FindResult = { ok: true; challenge: StoredChallenge } | { ok: false; reason: FindFailure };

/** The slot's challenge, left in place, if it is there and not expired. */
export function findChallenge(slots: ChallengeSlots | undefined, slot: string, now: number, ttlMs: number): FindResult {
  const challenge = slots && Object.hasOwn(slots, slot) ? slots[slot] : undefined;
  if (!challenge) return { ok: false, reason: 'missing' };
  if (isExpired(challenge, now, ttlMs)) return { ok: false, reason: 'expired' };
  return { ok: true, challenge };
}

export interface VerifyInput {
  challenge: StoredChallenge | undefined;
  typed: unknown;
  now: number;
  ttlMs: number;
  ledger: SpentChallengeLedger;
}

export async function verifyChallenge({ challenge, typed, now, ttlMs, ledger }: VerifyInput): Promise<VerifyResult> {
  if (!challenge) return { ok: false, reason: 'missing' };
  const firstUse = await ledger.claim(challenge.id, challenge.issuedAt + ttlMs);
  if (!firstUse) return { ok: false, reason: 'missing' };
  if (isExpired(challenge, now, ttlMs)) return { ok: false, reason: 'expired' };
  if (typeof typed !== 'string' || normaliseAnswer(typed) === '') return { ok: false, reason: 'wrong' };
  return answersMatch(typed, challenge.answer) ? { ok: true } : { ok: false, reason: 'wrong' };
}

/** Compares digests so that neither the content nor the length leaks through timing. */
function answersMatch(typed: string, answer: string): boolean {
  const digest = (value: string) => createHash('sha256').update(normaliseAnswer(value)).digest();
  return timingSafeEqual(digest(typed), digest(answer));
}
