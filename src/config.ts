/**
 * Configuration from the environment, parsed once at start-up.
 *
 * Each configurable module exports the schema of the variables it reads (with their
 * defaults, ranges and cross-field checks); this file composes them with the app-wide
 * ones, so docs/configuration.md's table and these schemas are the whole truth about
 * what can be set. Every problem is reported at once, each naming its variable, and nothing after
 * start-up validates again.
 */
import path from 'node:path';
import { z } from 'zod';
import { attackModeEnv } from './attack/attack-mode.js';
import { accountsEnv } from './auth/accounts.js';
import { lockoutEnv } from './auth/lockout.js';
import { passkeysEnv } from './auth/passkeys.js';
import { captchaEnv } from './captcha/captcha.js';
import { listenEnv } from './http/listen.js';
import { ipRateLimitsEnv } from './http/rate-limits.js';
import { metricsEnv } from './metrics/serve.js';
import { envInteger } from './options.js';
import { sessionTimeoutsEnv } from './session/timeouts.js';
import { storageEnv } from './storage/index.js';
import { workersEnv } from './workers.js';

const appEnv = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    DATA_DIR: z.string().trim().min(1).default('./data'),
    SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    TRUST_PROXY_HOPS: envInteger(0, 10).default(0),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && env.SESSION_SECRET === undefined) {
      ctx.addIssue({ code: 'custom', path: ['SESSION_SECRET'], message: 'is required when NODE_ENV=production (at least 32 random characters)' });
    }
  })
  .transform((env) => ({
    env: env.NODE_ENV,
    dataDir: path.resolve(env.DATA_DIR),
    /** Undefined outside production: a generated one is then kept in dataDir. */
    sessionSecret: env.SESSION_SECRET,
    trustProxyHops: env.TRUST_PROXY_HOPS,
    logLevel: env.LOG_LEVEL,
  }));

const sections = {
  listen: listenEnv,
  captcha: captchaEnv,
  ipRateLimits: ipRateLimitsEnv,
  lockout: lockoutEnv,
  attackMode: attackModeEnv,
  sessionTimeouts: sessionTimeoutsEnv,
  accounts: accountsEnv,
  passkeys: passkeysEnv,
  storage: storageEnv,
  workers: workersEnv,
  metrics: metricsEnv,
};

type Sections = { [K in keyof typeof sections]: z.output<(typeof sections)[K]> };
export type Config = z.output<typeof appEnv> & Sections;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the configuration, throwing a ConfigError that names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const problems: string[] = [];
  const parse = <T>(schema: z.ZodType<T>): T | undefined => {
    const parsed = schema.safeParse(present);
    if (parsed.success) return parsed.data;
    problems.push(...parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
    return undefined;
  };
  const app = parse(appEnv);
  const parsed = Object.fromEntries(Object.entries(sections).map(([name, schema]) => [name, parse(schema as z.ZodType)]));
  if (problems.length > 0 || app === undefined) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return { ...app, ...(parsed as Sections) };
}
