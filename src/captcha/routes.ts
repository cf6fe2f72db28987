/**
 * GET /get_validCode_img: a new captcha image for the page that asks.
 *
 * The page passes its slot key as `id` (pages without one share the "default" slot) and a
 * changing `n` so that no cache can answer. The answer stays in the session.
 */
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { HttpError } from '../http/errors.js';
import { SLOT_KEY_PATTERN } from './challenges.js';
import type { Captcha } from './captcha.js';

export const CAPTCHA_IMAGE_PATH = '/get_validCode_img';
export const DEFAULT_SLOT = 'default';

const imageQuery = z.object({
  id: z.string().regex(SLOT_KEY_PATTERN).default(DEFAULT_SLOT),
  n: z.string().max(64).optional(),
});

export function captchaRoutes(captcha: Captcha, rateLimit: RequestHandler): Router {
  const router = Router();
  router.get(CAPTCHA_IMAGE_PATH, rateLimit, async (req, res) => {
    const query = imageQuery.safeParse(req.query);
    if (!query.success) throw new HttpError(400, 'invalid_request');
    const png = await captcha.issue(req, query.data.id);
    res.set({ 'Content-Type': 'image/png', 'Cache-Control': 'no-store', 'Content-Length': String(png.length) });
    res.end(png);
  });
  return router;
}
