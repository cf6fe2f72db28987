/**
 * Builds the production app from a configuration: opens the stores (openStores) and hands
 * them to createApp. Shared by server.ts and the benchmark's server so that both run
 * exactly the same wiring. close() releases the stores.
 *
 * `overrides` is for harnesses that run this wiring as the real server but must know
 * what it made (scripts/attack/serve.ts learns each captcha answer, as the tests do
 * through build.ts); server.ts never passes it, so production reads nothing from it.
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import { createApp, type AppDeps } from './app.js';
import { createStrengthEstimator } from './auth/password-strength.js';
import { loadAudioClips } from './captcha/audio-clips.js';
import { registerCaptchaFonts } from './captcha/fonts.js';
import type { Config } from './config.js';
import { workerLabels } from './metrics/cluster.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { loadOrCreateDevSecret } from './session/secret.js';
import { openStores } from './storage/index.js';

export interface ComposedApp {
  app: Express;
  /** What the app and its stores count; served when METRICS_PORT is set (server.ts). */
  metrics: Metrics;
  close: () => Promise<void>;
}

export async function composeApp(config: Config, logger: Logger, overrides: Pick<AppDeps, 'generateCode'> = {}): Promise<ComposedApp> {
  // The process's own metrics (CPU, memory, event-loop lag) only when someone can read them.
  const metrics = createMetrics(config.metrics && { process: true, labels: workerLabels() });
  const stores = await openStores({
    dataDir: config.dataDir,
    ...config.storage,
    // Connection errors repeat while a back-end is down and requests get 503: a warning, not a bug.
    onError: (err) => logger.warn({ err }, 'storage error'),
    observer: metrics.stores,
  });
  registerCaptchaFonts();
  const strength = createStrengthEstimator();
  const app = createApp({
    logger,
    stores,
    sessionSecret: config.sessionSecret ?? loadOrCreateDevSecret(config.dataDir),
    attackModeOptions: config.attackMode,
    publicOrigin: config.passkeys.origin,
    captcha: config.captcha,
    secure: config.env === 'production',
    trustProxyHops: config.trustProxyHops,
    ipRateLimits: config.ipRateLimits,
    lockout: config.lockout,
    strength,
    audioClips: loadAudioClips(),
    sessionTimeouts: config.sessionTimeouts,
    scryptConcurrency: config.accounts.concurrency,
    scryptUnknownQueue: config.accounts.unknownQueue,
    generateCode: overrides.generateCode,
    metrics,
  });
  if (config.ipRateLimits === false) {
    logger.warn('RATE_LIMITS=off: per-IP throttling is DISABLED. Use this only for load tests and benchmarks, never in production.');
  }
  return {
    app,
    metrics,
    close: async () => {
      await stores.close();
      await strength.close();
    },
  };
}
