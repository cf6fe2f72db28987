/**
 * The app factory: wires the features into an Express app from the dependencies it is
 * given, and does no I/O of its own: compose.ts opens the stores, loads the audio clips,
 * registers the captcha fonts and starts the strength worker, and closes what it opened;
 * tests pass their own stores, clock and code generator. Options come typed from config.ts (or a
 * test); what a caller leaves out takes the defaults of the owning module's schema.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { ATTACK_MODE_DEFAULTS, createAttackMode, type AttackMode, type AttackModeOptions } from './attack/attack-mode.js';
import { POW_DEFAULTS, createPow, type PowCost } from './attack/pow.js';
import { createPowGate, powRoutes } from './attack/routes.js';
import { createAccounts } from './auth/accounts.js';
import { createDevices } from './auth/devices.js';
import { LOCKOUT_DEFAULTS, createLockout, type LockoutPolicy } from './auth/lockout.js';
import { createActivity } from './account/activity.js';
import { homeRoutes } from './account/home.js';
import { twoFactorRoutes } from './account/two-factor-routes.js';
import { passwordRoutes } from './account/password-routes.js';
import { createAccountSessions } from './account/sessions.js';
import { sessionsRoutes } from './account/sessions-routes.js';
import { passkeyRoutes } from './auth/passkey-routes.js';
import { createPasskeys } from './auth/passkeys.js';
import type { StrengthEstimator } from './auth/password-strength.js';
import type { ScryptParams } from './auth/passwords.js';
import { authRoutes } from './auth/routes.js';
import { createTwoFactor } from './auth/totp.js';
import type { CaptchaOptions } from './captcha/captcha.js';
import type { CodeGenerator } from './captcha/code.js';
import { createCaptcha, type ClipSet } from './captcha/index.js';
import { HttpError, errorHandler, notFound, requirePathTarget } from './http/errors.js';
import { healthRoutes } from './http/health.js';
import { ipRateLimits, type IpRateLimitOptions } from './http/rate-limits.js';
import { localeMiddleware } from './i18n/locale.js';
import type { Locale } from './i18n/messages.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { NODE_MODULES_DIR, PUBLIC_DIR, VIEWS_DIR } from './paths.js';
import { CSRF_TOKEN_PATH, createCsrf, csrfTokenRoutes } from './session/csrf.js';
import { sessionMiddleware } from './session/middleware.js';
import { SESSION_TIMEOUT_DEFAULTS, enforceSessionTimeouts, type SessionTimeouts } from './session/timeouts.js';
import { translator } from './i18n/messages.js';
import type { Stores } from './storage/ports.js';

export interface AppDeps {
  logger: Logger;
  /** Every store, from openStores (a test may wrap one to hold a request at a known point). */
  stores: Stores;
  sessionSecret: string | string[];
  attackModeOptions?: Partial<AttackModeOptions>;
  /** Replaces the detector built on attackSignals (tests force attack mode on with it). */
  attackMode?: AttackMode;
  /** The proof of work's cost (tests make it cheap); POW_DEFAULTS otherwise. */
  powCost?: Partial<PowCost>;
  /** The public origin passkeys are bound to (PUBLIC_ORIGIN); absent: the origin each request came to. */
  publicOrigin?: string;
  /** Makes captcha answers; tests pass one that records what it made. */
  generateCode?: CodeGenerator;
  captcha?: Pick<CaptchaOptions, 'ttlMs' | 'maxOutstanding' | 'render'> & { length?: number };
  /** Secure cookies and HTTPS-only CSP; on in production. */
  secure?: boolean;
  /** How many reverse proxies in front of the app to trust for the client address. */
  trustProxyHops?: number;
  clock?: () => number;
  scryptParams?: ScryptParams;
  /** How many scrypt computations may run at once. */
  scryptConcurrency?: number;
  /** How many unknown clients may wait to have a password hashed; more get 503 sign_in_busy. */
  scryptUnknownQueue?: number;
  /** Per-IP limits (counted in stores.rateLimitStore when there is one); false turns them off (RATE_LIMITS=off, for load tests). */
  ipRateLimits?: Partial<IpRateLimitOptions> | false;
  lockout?: Partial<LockoutPolicy>;
  /** The password-strength estimator (its worker starts on first use); the caller closes it. */
  strength: StrengthEstimator;
  /** The audio captcha's spoken characters (loadAudioClips); the fonts must be registered too (registerCaptchaFonts). */
  audioClips: Record<Locale, ClipSet>;
  sessionTimeouts?: Partial<SessionTimeouts>;
  /** What the app counts, for /metrics (the stores report to it through openStores); a registry of its own otherwise. */
  metrics?: Metrics;
}

const JSON_BODY_LIMIT = '16kb';

export function createApp(deps: AppDeps): Express {
  const { stores } = deps;
  const secure = deps.secure ?? false;
  const clock = deps.clock ?? Date.now;
  const timeouts = { ...SESSION_TIMEOUT_DEFAULTS, ...deps.sessionTimeouts };
  const metrics = deps.metrics ?? createMetrics();
  const limits = ipRateLimits(deps.ipRateLimits === false ? false : { store: stores.rateLimitStore, ...deps.ipRateLimits }, metrics.rateLimited);
  const app = express();
  app.set('trust proxy', deps.trustProxyHops ?? 0);
  app.set('views', VIEWS_DIR);
  app.set('view engine', 'ejs');
  // Every page's head names it (public/js/api.js fetches a fresh token there).
  app.locals.csrfTokenPath = CSRF_TOKEN_PATH;
  app.disable('x-powered-by');

  const captcha = createCaptcha({
    generateCode: deps.generateCode,
    length: deps.captcha?.length,
    ledger: stores.spentChallenges,
    audioClips: deps.audioClips,
    ttlMs: deps.captcha?.ttlMs,
    maxOutstanding: deps.captcha?.maxOutstanding,
    render: deps.captcha?.render,
    clock,
    rateLimit: limits.images,
    localeOf: (req) => req.locale,
    toError: (status, code) => new HttpError(status, code),
    observer: metrics.captcha,
  });
  const { strength } = deps;
  const accounts = createAccounts(stores.users, {
    scryptParams: deps.scryptParams,
    concurrency: deps.scryptConcurrency,
    unknownQueue: deps.scryptUnknownQueue,
    strength,
    clock,
  });
  const activity = createActivity(stores.activity, clock);
  const lockout = createLockout(stores.failedLogins, { ...LOCKOUT_DEFAULTS, ...deps.lockout }, clock, metrics.lockBegun);
  const devices = createDevices({ store: stores.deviceTokens, secret: deps.sessionSecret, secure, clock });
  const attackMode =
    deps.attackMode ??
    createAttackMode({ store: stores.attackSignals, options: { ...ATTACK_MODE_DEFAULTS, ...deps.attackModeOptions }, clock, logger: deps.logger });
  const pow = createPow({ sessionSecret: deps.sessionSecret, ledger: stores.spentChallenges, clock, cost: { ...POW_DEFAULTS, ...deps.powCost } });
  const passkeys = createPasskeys({
    repository: stores.passkeys,
    challenges: stores.webauthnChallenges,
    lockout,
    rpName: translator('en')('appName'),
    clock,
    onSignIn: (result) => metrics.signIn('passkey', result),
  });
  metrics.watch({ hashing: () => accounts.load, strengthInFlight: () => strength.inFlight, attackModeLevel: () => attackMode.last().level });
  const twoFactor = createTwoFactor({ repository: stores.totp, ledger: stores.spentChallenges, issuer: translator('en')('appName'), clock });

  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: () => randomUUID(),
      // Only what is needed to follow a request: never headers, cookies or bodies.
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'frame-ancestors': ["'none'"],
          'upgrade-insecure-requests': secure ? [] : null,
        },
      },
      strictTransportSecurity: secure,
      xFrameOptions: { action: 'deny' },
    }),
  );
  app.use(localeMiddleware({ secureCookies: secure }));
  app.use(requirePathTarget);
  app.use(healthRoutes(stores.ping, attackMode));
  app.use('/static/bootstrap', express.static(path.join(NODE_MODULES_DIR, 'bootstrap', 'dist')));
  app.use('/static/jquery', express.static(path.join(NODE_MODULES_DIR, 'jquery', 'dist')));
  // The page's proof-of-work worker imports altcha-lib's browser modules (relative imports only).
  app.use('/static/altcha', express.static(path.join(NODE_MODULES_DIR, 'altcha-lib', 'dist', 'esm', 'v2')));
  app.use('/static/simplewebauthn', express.static(path.join(NODE_MODULES_DIR, '@simplewebauthn', 'browser', 'dist', 'bundle')));
  app.use('/static', express.static(PUBLIC_DIR));
  app.use(express.json({ limit: JSON_BODY_LIMIT }));
  app.use(cookieParser(deps.sessionSecret));
  app.use(sessionMiddleware({ store: stores.sessionStore, secret: deps.sessionSecret, secureCookies: secure, timeouts }));
  app.use(enforceSessionTimeouts(timeouts, clock));

  app.use(captcha.routes);
  const csrf = createCsrf({ secureCookies: secure, clock });
  app.use(csrfTokenRoutes(csrf));
  app.use(powRoutes({ attackMode, pow, devices, limit: limits.images }));
  const powGate = createPowGate(attackMode, pow);
  app.use(authRoutes({ accounts, captcha, lockout, devices, twoFactor, strength, csrf, attackMode, powGate, limits, timeouts, activity, clock, metrics }));
  const sessions = createAccountSessions(stores.sessionIndex, timeouts);
  app.use(homeRoutes({ passkeys, activity, twoFactor, sessions, csrf, clock }));
  app.use(twoFactorRoutes({ twoFactor, activity, csrf, limits }));
  app.use(sessionsRoutes({ sessions, activity, csrf, limits, clock }));
  app.use(passwordRoutes({ accounts, sessionIndex: stores.sessionIndex, lockout, devices, activity, csrf, limits, clock }));
  app.use(passkeyRoutes({ passkeys, accounts, activity, devices, origin: deps.publicOrigin, csrf, limits, timeouts, clock }));
  app.use(notFound);
  app.use(metrics.errors);
  app.use(errorHandler(deps.logger));
  return app;
}
