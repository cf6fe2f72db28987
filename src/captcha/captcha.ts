/**
 * The captcha's challenges in a session: issue one into the session and draw it, speak a
 * page's challenge without spending it, or check a typed answer against the session's
 * challenge for a page. index.ts adds the routes; this is what they and a form use.
 *
 * The sound of a challenge is mixed with randomness keyed by a hash of its random id:
 * secret (the id never leaves the server while the challenge is open), fixed for the
 * challenge's life (so every download is the same bytes) and independent of the answer.
 * So it is mixed once and kept (sound-cache.ts); spending the challenge drops it.
 *
 * Options are validated here, once, when the app is built.
 */
import type { Request } from 'express';
import { z } from 'zod';
import type { CodeGenerator } from './code.js';
import { renderCaptchaAudio, soundRandom } from './audio.js';
import type { ClipSet } from './audio-clips.js';
import {
  findChallenge,
  issueChallenge,
  takeChallenge,
  verifyChallenge,
  type ChallengeSlots,
  type FindFailure,
  type StoredChallenge,
  type VerifyFailure,
  type VerifyResult,
} from './challenges.js';
import type { SpentChallengeLedger } from '../storage/ports.js';
import { renderCaptcha } from './render.js';
import { validateRenderOptions, type RenderOptions } from './render-options.js';
import { cryptoRandom, type RandomSource } from './random.js';
import { createSoundCache } from './sound-cache.js';
import { defaultsOf, envInteger, requireInteger } from '../options.js';

declare module 'express-session' {
  interface SessionData {
    /** Outstanding captchas, keyed by the page (tab) that asked for them. */
    captcha?: ChallengeSlots;
  }
}

export interface CaptchaOptions<L extends string = string> {
  generateCode: CodeGenerator;
  ledger: SpentChallengeLedger;
  /** The spoken characters of each language the sound is offered in (loadAudioClips). */
  audioClips: Readonly<Record<L, ClipSet>>;
  /** How long an image's answer stays valid, in ms. */
  ttlMs?: number;
  /** How many pages (tabs) of one session may each hold a working captcha. */
  maxOutstanding?: number;
  render?: Partial<RenderOptions>;
  /** Randomness for drawing only (answers come from generateCode). */
  drawingRandom?: RandomSource;
  clock?: () => number;
  /** Most bytes of mixed sounds kept (a sound is ~180 KB); 0 keeps none. */
  soundCacheBytes?: number;
  /** Told of each picture, sound and check (the app's metrics); its calls must not throw. */
  observer?: CaptchaObserver;
}

/**
 * A check's result: `spent` is a challenge the session still held whose id the ledger had
 * claimed already (a replay racing the first use, or an old copy of the session), which
 * verify() answers as `missing` like a challenge the session no longer holds.
 */
export type CaptchaCheck = 'right' | VerifyFailure | 'spent';

export interface CaptchaObserver {
  pictureIssued(): void;
  soundServed(): void;
  checked(result: CaptchaCheck): void;
}

/** What the environment sets: a fixed answer length (else the generator's own range) and the TTL. */
export const captchaEnv = z
  .object({
    CAPTCHA_LENGTH: envInteger(3, 8).optional(),
    CAPTCHA_TTL_SECONDS: envInteger(10, 3600).default(120),
  })
  .transform((env) => ({ length: env.CAPTCHA_LENGTH, ttlMs: env.CAPTCHA_TTL_SECONDS * 1000 }));

export const CAPTCHA_DEFAULTS = { ttlMs: defaultsOf(captchaEnv).ttlMs, maxOutstanding: 5, soundCacheBytes: 16 * 2 ** 20 } as const;

export interface Captcha<L extends string = string> {
  /** Puts a fresh challenge for `slot` in the session and returns its PNG. */
  issue(req: Request, slot: string): Promise<Buffer>;
  /** The WAV of the session's challenge for `slot`, spoken in `locale`; spends nothing. */
  audio(req: Request, slot: string, locale: L): { ok: true; wav: Buffer } | { ok: false; reason: FindFailure };
  /** Spends the session's challenge for `slot` and says whether `typed` answered it. */
  verify(req: Request, slot: string, typed: unknown): Promise<VerifyResult>;
}

export function createChallenges<L extends string>(options: CaptchaOptions<L>): Captcha<L> {
  const ttlMs = options.ttlMs ?? CAPTCHA_DEFAULTS.ttlMs;
  const maxOutstanding = requireInteger('captcha maxOutstanding', options.maxOutstanding ?? CAPTCHA_DEFAULTS.maxOutstanding, 1, 50);
  const sounds = createSoundCache(
    requireInteger('captcha soundCacheBytes', options.soundCacheBytes ?? CAPTCHA_DEFAULTS.soundCacheBytes, 0, 2 ** 30),
  );
  const locales = Object.keys(options.audioClips) as L[];
  // The id alone names a challenge; the answer is in the key too so that a key can never
  // stand for two different answers, whatever a session store hands back.
  const soundKey = (challenge: StoredChallenge, locale: L) => `${challenge.id}\0${challenge.answer}\0${locale}`;
  const renderOptions = validateRenderOptions(options.render);
  const random = options.drawingRandom ?? cryptoRandom;
  const now = options.clock ?? Date.now;
  const { generateCode, ledger, audioClips, observer } = options;

  return {
    async issue(req, slot) {
      const answer = generateCode();
      req.session.captcha = issueChallenge(req.session.captcha, slot, answer, now(), maxOutstanding);
      const png = await renderCaptcha(answer, renderOptions, random);
      observer?.pictureIssued();
      return png;
    },
    audio(req, slot, locale) {
      const found = findChallenge(req.session.captcha, slot, now(), ttlMs);
      if (!found.ok) return found;
      const key = soundKey(found.challenge, locale);
      let wav = sounds.get(key);
      if (!wav) {
        wav = renderCaptchaAudio(found.challenge.answer, audioClips[locale], soundRandom(found.challenge.id));
        sounds.set(key, wav);
      }
      observer?.soundServed();
      return { ok: true, wav };
    },
    async verify(req, slot, typed) {
      const challenge = takeChallenge(req.session.captcha, slot);
      if (challenge) for (const locale of locales) sounds.delete(soundKey(challenge, locale));
      const result = await verifyChallenge({ challenge, typed, now: now(), ttlMs, ledger });
      // The session held it, so `missing` can only be the ledger's refusal: spent elsewhere.
      observer?.checked(result.ok ? 'right' : result.reason === 'missing' && challenge ? 'spent' : result.reason);
      return result;
    },
  };
}
