/**
 * Per-IP request limits (express-rate-limit): a short window on captcha images, one as
 * long on passkey challenges, and a short and a long window on the form posts. Over a limit the client gets 429 with
 * Retry-After and a message the page shows.
 *
 * The counters live in express-rate-limit's Store interface: in memory by default (one
 * process), or in a shared store (e.g. rate-limit-redis) passed through `store` when the
 * app runs on several machines. The client address is req.ip, which honours only the
 * configured number of proxy hops, so a forged X-Forwarded-For changes nothing.
 */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import { sendError } from './errors.js';
import { defaultsOf, envInteger } from '../options.js';
import type { RateLimitStoreFactory } from '../storage/ports.js';

export interface IpRateLimitOptions {
  imagesPerMinute: number;
  postsPerMinute: number;
  postsPerHour: number;
  hintsPerMinute: number;
  /** Makes the counter store for a named limit; memory when absent. */
  store?: RateLimitStoreFactory;
}

/** The limits, or false for RATE_LIMITS=off. */
export const ipRateLimitsEnv = z
  .object({
    RATE_LIMITS: z.enum(['on', 'off']).default('on'),
    RATE_LIMIT_IMAGES_PER_MINUTE: envInteger(1, 100_000).default(60),
    RATE_LIMIT_POSTS_PER_MINUTE: envInteger(1, 100_000).default(10),
    RATE_LIMIT_POSTS_PER_HOUR: envInteger(1, 1_000_000).default(100),
    RATE_LIMIT_HINTS_PER_MINUTE: envInteger(1, 100_000).default(20),
  })
  .superRefine((env, ctx) => {
    if (env.RATE_LIMIT_POSTS_PER_HOUR < env.RATE_LIMIT_POSTS_PER_MINUTE) {
      ctx.addIssue({ code: 'custom', path: ['RATE_LIMIT_POSTS_PER_HOUR'], message: 'must not be below RATE_LIMIT_POSTS_PER_MINUTE' });
    }
  })
  .transform(
    (env): IpRateLimitOptions | false =>
      env.RATE_LIMITS === 'off'
        ? false
        : {
            imagesPerMinute: env.RATE_LIMIT_IMAGES_PER_MINUTE,
            postsPerMinute: env.RATE_LIMIT_POSTS_PER_MINUTE,
            postsPerHour: env.RATE_LIMIT_POSTS_PER_HOUR,
            hintsPerMinute: env.RATE_LIMIT_HINTS_PER_MINUTE,
          },
  );

export const IP_RATE_LIMIT_DEFAULTS = defaultsOf(ipRateLimitsEnv) as IpRateLimitOptions;

export interface IpRateLimits {
  /** Captcha images (and their sounds). */
  images: RequestHandler;
  /** Passkey challenges: as many as images, counted apart (the sign-in page asks for one per view). */
  challenges: RequestHandler;
  /** Sign-in and sign-up posts: a short and a long window. */
  posts: RequestHandler[];
  /** The sign-up page's password-strength hints (each costs an estimate on the worker). */
  hints: RequestHandler;
}

const passThrough: RequestHandler = (_req, _res, next) => next();

/** `onLimited` is told the limiter's name at each 429 (the app's metrics). */
export function ipRateLimits(options: Partial<IpRateLimitOptions> | false, onLimited: (limiter: string) => void = () => {}): IpRateLimits {
  if (options === false) return { images: passThrough, challenges: passThrough, posts: [passThrough], hints: passThrough };
  const merged = { ...IP_RATE_LIMIT_DEFAULTS, ...options };
  const limiter = (name: string, windowMs: number, limit: number) =>
    rateLimit({
      windowMs,
      limit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      store: merged.store?.(name),
      identifier: name,
      handler: (req, res) => {
        onLimited(name);
        sendError(req, res, 429, 'rate_limited');
      },
    });
  return {
    images: limiter('images', 60_000, merged.imagesPerMinute),
    challenges: limiter('challenges', 60_000, merged.imagesPerMinute),
    hints: limiter('hints', 60_000, merged.hintsPerMinute),
    posts: [limiter('posts-minute', 60_000, merged.postsPerMinute), limiter('posts-hour', 3_600_000, merged.postsPerHour)],
  };
}
