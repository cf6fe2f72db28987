/**
 * The captcha as a part any Express 5 app with express-session can mount: the picture and
 * sound routes, and verify() for the form that asks for the answer. This app mounts it
 * the same way (app.ts); docs/captcha-mount.md shows a bare app. It needs nothing of the
 * app: the ledger is a port (storage/ports.ts), and refusals, rate limit and language
 * come in as options.
 *
 * Before createCaptcha: registerCaptchaFonts() once per process, and the clips from
 * loadAudioClips() (both read files, which createCaptcha itself never does).
 */
import type { Router } from 'express';
import { createChallenges, type Captcha, type CaptchaOptions } from './captcha.js';
import { createCodeGenerator } from './code.js';
import { captchaFontsRegistered } from './fonts.js';
import { captchaRoutes, type CaptchaRouteOptions } from './routes.js';

export { captchaEnv, CAPTCHA_DEFAULTS, type Captcha, type CaptchaCheck, type CaptchaObserver } from './captcha.js';
export { AUDIO_LOCALES, loadAudioClips, type AudioLocale, type ClipSet } from './audio-clips.js';
export { registerCaptchaFonts } from './fonts.js';
export { memoryLedger, type MemoryLedger } from './memory-ledger.js';
export { CAPTCHA_AUDIO_PATH, CAPTCHA_IMAGE_PATH, CaptchaHttpError, type CaptchaErrorCode } from './routes.js';
export { SLOT_KEY_PATTERN, newSlotKey, type VerifyFailure, type VerifyResult } from './challenges.js';
export type { SpentChallengeLedger } from '../storage/ports.js';

export interface MountableCaptchaOptions<L extends string>
  extends Omit<CaptchaOptions<L>, 'generateCode'>,
    CaptchaRouteOptions<L> {
  /** Makes the answers; by default 5-6 characters of CAPTCHA_ALPHABET, or `length` each. */
  generateCode?: CaptchaOptions<L>['generateCode'];
  length?: number;
}

export interface MountableCaptcha<L extends string> extends Captcha<L> {
  /** GET /get_validCode_img and GET /get_validCode_audio, relative to where it is mounted. */
  routes: Router;
}

export function createCaptcha<L extends string>(options: MountableCaptchaOptions<L>): MountableCaptcha<L> {
  if (!captchaFontsRegistered()) throw new Error('call registerCaptchaFonts() before createCaptcha()');
  const locales = Object.keys(options.audioClips) as L[];
  if (locales.length === 0) throw new RangeError('captcha audioClips must hold at least one language');
  const generateCode = options.generateCode ?? createCodeGenerator({ minLength: options.length, maxLength: options.length });
  const challenges = createChallenges({ ...options, generateCode });
  return { ...challenges, routes: captchaRoutes(challenges, locales, options) };
}
