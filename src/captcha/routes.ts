/**
 * GET /get_validCode_img: a new captcha image for the page that asks.
 * GET /get_validCode_audio: the same challenge spoken, in the page's language (`lang`, as
 * every page takes it); it issues nothing and spends nothing, and counts against the same
 * per-IP limit as the pictures.
 *
 * The page passes its slot key as `id` (pages without one share the "default" slot) and a
 * changing `n` so that no cache can answer. The answer stays in the session.
 */
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { HttpError } from '../http/errors.js';
import type { ErrorCode } from '../i18n/messages.js';
import { SLOT_KEY_PATTERN, type FindFailure } from './challenges.js';
import type { Captcha } from './captcha.js';

export const CAPTCHA_IMAGE_PATH = '/get_validCode_img';
export const CAPTCHA_AUDIO_PATH = '/get_validCode_audio';
export const DEFAULT_SLOT = 'default';

const AUDIO_ERRORS: Record<FindFailure, { status: number; code: ErrorCode }> = {
  missing: { status: 404, code: 'captcha_audio_missing' },
  expired: { status: 410, code: 'captcha_audio_expired' },
};

const slotQuery = z.object({
  id: z.string().regex(SLOT_KEY_PATTERN).default(DEFAULT_SLOT),
  n: z.string().max(64).optional(),
});

export function captchaRoutes(captcha: Captcha, rateLimit: RequestHandler): Router {
  const router = Router();
  router.get(CAPTCHA_IMAGE_PATH, rateLimit, async (req, res) => {
    const query = slotQuery.safeParse(req.query);
    if (!query.success) throw new HttpError(400, 'invalid_request');
    const png = await captcha.issue(req, query.data.id);
    res.set({ 'Content-Type': 'image/png', 'Cache-Control': 'no-store', 'Content-Length': String(png.length) });
    res.end(png);
  });
  router.get(CAPTCHA_AUDIO_PATH, rateLimit, (req, res) => {
    const query = slotQuery.safeParse(req.query);
    if (!query.success) throw new HttpError(400, 'invalid_request');
    const audio = captcha.audio(req, query.data.id, req.locale);
    if (!audio.ok) throw new HttpError(AUDIO_ERRORS[audio.reason].status, AUDIO_ERRORS[audio.reason].code);
    res.set({ 'Content-Type': 'audio/wav', 'Cache-Control': 'no-store', 'Content-Length': String(audio.wav.length) });
    res.end(audio.wav);
  });
  return router;
}
