/**
 * The captcha feature as the app uses it: issue a challenge into a session and draw it,
 * speak a page's challenge without spending it, or check a typed answer against the
 * session's challenge for a page.
 *
 * The sound of a challenge is mixed with randomness keyed by a hash of its random id:
 * secret (the id never leaves the server while the challenge is open), fixed for the
 * challenge's life (so every download is the same bytes) and independent of the answer.
 *
 * Options are validated here, once, when the app is built.
 */
import type { Request } from 'express';
import { z } from 'zod';
import type { CodeGenerator } from './code.js';
import type { Locale } from '../i18n/messages.js';
import { renderCaptchaAudio, soundRandom } from './audio.js';
import type { ClipSet } from './audio-clips.js';
import {
  findChallenge,
  issueChallenge,
  takeChallenge,
  verifyChallenge,
  type FindFailure,
  type VerifyResult,
} from './challenges.js';
import type { SpentChallengeLedger } from '../storage/ports.js';
import { renderCaptcha } from './render.js';
import { validateRenderOptions, type RenderOptions } from './render-options.js';
import { cryptoRandom, type RandomSource } from './random.js';
import { defaultsOf, envInteger, requireInteger } from '../options.js';

export interface CaptchaOptions {
  generateCode: CodeGenerator;
  ledger: SpentChallengeLedger;
  /** The spoken characters of each page language (audio-clips.ts). */
  audioClips: Record<Locale, ClipSet>;
  /** How long an image's answer stays valid, in ms. */
  ttlMs?: number;
  /** How many pages (tabs) of one session may each hold a working captcha. */
  maxOutstanding?: number;
  render?: Partial<RenderOptions>;
  /** Randomness for drawing only (answers come from generateCode). */
  drawingRandom?: RandomSource;
  clock?: () => number;
}

/** What the environment sets: a fixed answer length (else the generator's own range) and the TTL. */
export const captchaEnv = z
  .object({
    CAPTCHA_LENGTH: envInteger(3, 8).optional(),
    CAPTCHA_TTL_SECONDS: envInteger(10, 3600).default(120),
  })
  .transform((env) => ({ length: env.CAPTCHA_LENGTH, ttlMs: env.CAPTCHA_TTL_SECONDS * 1000 }));

export const CAPTCHA_DEFAULTS = { ttlMs: defaultsOf(captchaEnv).ttlMs, maxOutstanding: 5 } as const;

export interface Captcha {
  /** Puts a fresh challenge for `slot` in the session and returns its PNG. */
  issue(req: Request, slot: string): Promise<Buffer>;
  /** The WAV of the session's challenge for `slot`, spoken in `locale`; spends nothing. */
  audio(req: Request, slot: string, locale: Locale): { ok: true; wav: Buffer } | { ok: false; reason: FindFailure };
  /** Spends the session's challenge for `slot` and says whether `typed` answered it. */
  verify(req: Request, slot: string, typed: unknown): Promise<VerifyResult>;
}

export function createCaptcha(options: CaptchaOptions): Captcha {
  const ttlMs = options.ttlMs ?? CAPTCHA_DEFAULTS.ttlMs;
  const maxOutstanding = requireInteger('captcha maxOutstanding', options.maxOutstanding ?? CAPTCHA_DEFAULTS.maxOutstanding, 1, 50);
  const renderOptions = validateRenderOptions(options.render);
  const random = options.drawingRandom ?? cryptoRandom;
  const now = options.clock ?? Date.now;
  const { generateCode, ledger, audioClips } = options;

  return {
    async issue(req, slot) {
      const answer = generateCode();
      req.session.captcha = issueChallenge(req.session.captcha, slot, answer, now(), maxOutstanding);
      return renderCaptcha(answer, renderOptions, random);
    },
    audio(req, slot, locale) {
      const found = findChallenge(req.session.captcha, slot, now(), ttlMs);
      if (!found.ok) return found;
      return { ok: true, wav: renderCaptchaAudio(found.challenge.answer, audioClips[locale], soundRandom(found.challenge.id)) };
    },
    async verify(req, slot, typed) {
      const challenge = takeChallenge(req.session.captcha, slot);
      return verifyChallenge({ challenge, typed, now: now(), ttlMs, ledger });
    },
  };
}
