/**
 * Builds the production app from a configuration: opens the SQLite file in DATA_DIR and
 * hands its stores to createApp. Shared by server.ts and the benchmark's server so that
 * both run exactly the same wiring. close() releases the stores.
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { SqliteFailedLoginStore } from './auth/lockout.js';
import { createStrengthEstimator } from './auth/password-strength.js';
import { SqliteUserRepository } from './auth/users.js';
import { SqliteSpentChallengeLedger } from './captcha/sqlite-ledger.js';
import type { Config } from './config.js';
import { loadOrCreateDevSecret } from './session/secret.js';
import { SqliteSessionStore } from './session/sqlite-store.js';
import { openDataDirDatabase } from './sqlite.js';

export interface ComposedApp {
  app: Express;
  close: () => Promise<void>;
}

export function composeApp(config: Config, logger: Logger): ComposedApp {
  const db = openDataDirDatabase(config.dataDir);
  const sessionStore = new SqliteSessionStore({ db });
  const strength = createStrengthEstimator();
  const app = createApp({
    logger,
    sessionStore,
    sessionSecret: config.sessionSecret ?? loadOrCreateDevSecret(config.dataDir),
    users: new SqliteUserRepository(db),
    spentChallenges: new SqliteSpentChallengeLedger(db),
    failedLogins: new SqliteFailedLoginStore(db),
    captcha: config.captcha,
    secure: config.env === 'production',
    trustProxyHops: config.trustProxyHops,
    ipRateLimits: config.ipRateLimits,
    lockout: config.lockout,
    strength,
    sessionTimeouts: config.sessionTimeouts,
    scryptConcurrency: config.accounts.concurrency,
  });
  if (config.ipRateLimits === false) {
    logger.warn('RATE_LIMITS=off: per-IP throttling is DISABLED. Use this only for load tests and benchmarks, never in production.');
  }
  return {
    app,
    close: async () => {
      sessionStore.close();
      db.close();
      await strength.close();
    },
  };
}
