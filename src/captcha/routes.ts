/**
 * GET /get_validCode_img: a new captcha image for the page that asks.
 * GET /get_validCode_audio: the same challenge spoken, in the page's language; it issues
 * nothing and spends nothing, and passes the same rate limit as the pictures.
 *
 * The page passes its slot key as `id` (pages without one share the "default" slot) and a
 * changing `n` so that no cache can answer. The answer stays in the session.
 *
 * Refusals are thrown as errors for the host app's error handler: by default a
 * CaptchaHttpError (status and code, as Express's own handler reads them); the app
 * passes its own error type through `toError`.
 */
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { SLOT_KEY_PATTERN, type FindFailure } from './challenges.js';
import type { Captcha } from './captcha.js';

export const CAPTCHA_IMAGE_PATH = '/get_validCode_img';
export const CAPTCHA_AUDIO_PATH = '/get_validCode_audio';
export const DEFAULT_SLOT = 'default';

export type CaptchaErrorCode = 'invalid_request' | 'captcha_audio_missing' | 'captcha_audio_expired';

export class CaptchaHttpError extends Error {
  override name = 'CaptchaHttpError';
  /** 4xx: Express's default handler may show the message (the code) to the client. */
  readonly expose = true;
  constructor(
    readonly status: number,
    readonly code: CaptchaErrorCode,
  ) {
    super(code);
  }
}

export interface CaptchaRouteOptions<L extends string> {
  /** Runs before each picture and sound (e.g. a per-IP limit); none by default. */
  rateLimit?: RequestHandler;
  /** The language to speak in for this request; by default `?lang=` if one is loaded, else the first loaded. */
  localeOf?: (req: Request) => L;
  /** The error thrown for a refusal; a CaptchaHttpError by default. */
  toError?: (status: number, code: CaptchaErrorCode) => Error;
}

const AUDIO_ERRORS: Record<FindFailure, { status: number; code: CaptchaErrorCode }> = {
  missing: { status: 404, code: 'captcha_audio_missing' },
  expired: { status: 410, code: 'captcha_audio_expired' },
};

const slotQuery = z.object({
  id: z.string().regex(SLOT_KEY_PATTERN).default(DEFAULT_SLOT),
  n: z.string().max(64).optional(),
});

const passThrough: RequestHandler = (_req, _res, next) => next();

export function captchaRoutes<L extends string>(captcha: Captcha<L>, locales: readonly L[], options: CaptchaRouteOptions<L> = {}): Router {
  const rateLimit = options.rateLimit ?? passThrough;
  const toError = options.toError ?? ((status, code) => new CaptchaHttpError(status, code));
  const localeOf =
    options.localeOf ??
    ((req: Request): L => {
      const asked = req.query.lang;
      return (locales as readonly unknown[]).includes(asked) ? (asked as L) : (locales[0] as L);
    });
  const router = Router();
  router.get(CAPTCHA_IMAGE_PATH, rateLimit, async (req, res) => {
    const query = slotQuery.safeParse(req.query);
    if (!query.success) throw toError(400, 'invalid_request');
    const png = await captcha.issue(req, query.data.id);
    res.set({ 'Content-Type': 'image/png', 'Cache-Control': 'no-store', 'Content-Length': String(png.length) });
    res.end(png);
  });
  router.get(CAPTCHA_AUDIO_PATH, rateLimit, (req, res) => {
    const query = slotQuery.safeParse(req.query);
    if (!query.success) throw toError(400, 'invalid_request');
    const audio = captcha.audio(req, query.data.id, localeOf(req));
    if (!audio.ok) throw toError(AUDIO_ERRORS[audio.reason].status, AUDIO_ERRORS[audio.reason].code);
    res.set({ 'Content-Type': 'audio/wav', 'Cache-Control': 'no-store', 'Content-Length': String(audio.wav.length) });
    res.end(audio.wav);
  });
  return router;
}
