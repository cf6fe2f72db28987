/**
 * Configuration from the environment, parsed once at start-up.
 *
 * Every variable is read here and nowhere else, so the README's table and this schema are
 * the whole truth about what can be set. A bad value stops start-up with a message that
 * names the variable, rather than surfacing later as odd behaviour.
 */
import path from 'node:path';
import { z } from 'zod';
import type { LockoutPolicy } from './auth/lockout.js';
import type { IpRateLimitOptions } from './http/rate-limits.js';
import type { SessionTimeouts } from './session/timeouts.js';

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: integer(0, 65535).default(3000),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  CAPTCHA_LENGTH: integer(3, 8).optional(),
  CAPTCHA_TTL_SECONDS: integer(10, 3600).default(120),
  TRUST_PROXY_HOPS: integer(0, 10).default(0),
  RATE_LIMITS: z.enum(['on', 'off']).default('on'),
  RATE_LIMIT_IMAGES_PER_MINUTE: integer(1, 100_000).default(60),
  RATE_LIMIT_POSTS_PER_MINUTE: integer(1, 100_000).default(10),
  RATE_LIMIT_POSTS_PER_HOUR: integer(1, 1_000_000).default(100),
  ACCOUNT_LOCK_AFTER_FAILURES: integer(1, 100).default(5),
  ACCOUNT_LOCK_BASE_SECONDS: integer(1, 86_400).default(60),
  ACCOUNT_LOCK_MAX_SECONDS: integer(1, 86_400).default(900),
  SESSION_IDLE_MINUTES: integer(1, 1440).default(30),
  SESSION_ABSOLUTE_HOURS: integer(1, 720).default(8),
  ANONYMOUS_SESSION_MINUTES: integer(1, 1440).default(10),
  SCRYPT_CONCURRENCY: integer(1, 64).default(2),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  dataDir: string;
  /** Undefined outside production: server.ts then keeps a generated one in dataDir. */
  sessionSecret: string | undefined;
  /** Undefined: the captcha's own default length. */
  captchaLength: number | undefined;
  captchaTtlMs: number;
  trustProxyHops: number;
  logLevel: string;
  /** Per-IP request limits, or false when RATE_LIMITS=off. */
  ipRateLimits: IpRateLimitOptions | false;
  lockout: LockoutPolicy;
  sessionTimeouts: SessionTimeouts;
  scryptConcurrency: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the configuration, throwing a ConfigError that names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const values = parsed.data;
  if (values.ACCOUNT_LOCK_MAX_SECONDS < values.ACCOUNT_LOCK_BASE_SECONDS) {
    throw new ConfigError('Invalid configuration: ACCOUNT_LOCK_MAX_SECONDS must not be below ACCOUNT_LOCK_BASE_SECONDS');
  }
  if (values.NODE_ENV === 'production' && values.SESSION_SECRET === undefined) {
    throw new ConfigError('SESSION_SECRET is required when NODE_ENV=production (at least 32 random characters)');
  }
  return {
    env: values.NODE_ENV,
    host: values.HOST,
    port: values.PORT,
    dataDir: path.resolve(values.DATA_DIR),
    sessionSecret: values.SESSION_SECRET,
    captchaLength: values.CAPTCHA_LENGTH,
    captchaTtlMs: values.CAPTCHA_TTL_SECONDS * 1000,
    trustProxyHops: values.TRUST_PROXY_HOPS,
    logLevel: values.LOG_LEVEL,
    ipRateLimits:
      values.RATE_LIMITS === 'off'
        ? false
        : {
            imagesPerMinute: values.RATE_LIMIT_IMAGES_PER_MINUTE,
            postsPerMinute: values.RATE_LIMIT_POSTS_PER_MINUTE,
            postsPerHour: values.RATE_LIMIT_POSTS_PER_HOUR,
          },
    lockout: {
      afterFailures: values.ACCOUNT_LOCK_AFTER_FAILURES,
      baseMs: values.ACCOUNT_LOCK_BASE_SECONDS * 1000,
      maxMs: values.ACCOUNT_LOCK_MAX_SECONDS * 1000,
    },
    sessionTimeouts: {
      idleMs: values.SESSION_IDLE_MINUTES * 60_000,
      absoluteMs: values.SESSION_ABSOLUTE_HOURS * 3_600_000,
      anonymousMs: values.ANONYMOUS_SESSION_MINUTES * 60_000,
    },
    scryptConcurrency: values.SCRYPT_CONCURRENCY,
  };
}
