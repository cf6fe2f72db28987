/**
 * build(t): a real app on real stores from openStores (a SQLite file in a temporary
 * folder), torn down when the test ends. The code generator is the production one, wrapped so the test can read the
 * answers it made; the clock is a manual one so expiry needs no sleeping. Passwords are
 * hashed with cheap scrypt parameters (test/auth/passwords.test.ts checks the production
 * ones), so a sign-in costs about a millisecond instead of a few hundred.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Teardown } from './services.js';
import type { Express } from 'express';
import supertest from 'supertest';
import { createApp, type AppDeps } from '../../src/app.js';
import { createStrengthEstimator } from '../../src/auth/password-strength.js';
import { hashPassword, type ScryptParams } from '../../src/auth/passwords.js';
import { loadAudioClips, type ClipSet } from '../../src/captcha/audio-clips.js';
import { createCodeGenerator } from '../../src/captcha/code.js';
import { registerCaptchaFonts } from '../../src/captcha/fonts.js';
import type { Locale } from '../../src/i18n/messages.js';
import { createLogger } from '../../src/logger.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import { openStores, type OpenStores, type StorageConfig } from '../../src/storage/index.js';
import type { ActivityStore, FailedLoginStore, UserRepository } from '../../src/storage/ports.js';
import type { SqliteDatabase } from '../../src/storage/sqlite/database.js';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-the-app-000';
/** scrypt at 1/128 of the production cost (N=2^10): same code path, test-sized work. */
export const TEST_SCRYPT: ScryptParams = { N: 2 ** 10, r: 8, p: 1, keyLength: 32, saltLength: 16 };

/** A proof of work of at most 64 tries of 10 PBKDF2 iterations at level 1: the real protocol at test cost. */
export const TEST_POW = { iterations: 10, counterMax: 64 };

export interface ManualClock {
  now: () => number;
  advance: (ms: number) => void;
}

export interface TestApp {
  app: Express;
  db: SqliteDatabase;
  stores: OpenStores;
  dataDir: string;
  clock: ManualClock;
  /** Every captcha answer the app made, oldest first. */
  answers: string[];
  /** Everything the app logged, as text. */
  logs: () => string;
  agent: () => ReturnType<typeof supertest.agent>;
  createUser: (username: string, password: string) => Promise<void>;
}

/** Serves the app on a free port of 127.0.0.1 until the test ends; returns its base URL. */
export async function serve(t: Teardown, testApp: TestApp): Promise<string> {
  const server = testApp.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface BuildOptions {
  /** Reuse a data folder (to test restarts); it is then not deleted by this build. */
  dataDir?: string;
  captcha?: AppDeps['captcha'];
  /** Per-IP limits are off unless a test is about them (all test requests share one IP). */
  ipRateLimits?: AppDeps['ipRateLimits'];
  lockout?: AppDeps['lockout'];
  sessionTimeouts?: AppDeps['sessionTimeouts'];
  trustProxyHops?: number;
  /** Shared back-ends (Redis, PostgreSQL) for the stores; SQLite in the data folder otherwise. */
  storage?: Partial<StorageConfig>;
  /** The public origin passkeys are bound to; the origin of each request otherwise. */
  publicOrigin?: string;
  /** Attack mode's thresholds; or a stand-in for the detector (forces attack mode on or off). */
  attackModeOptions?: AppDeps['attackModeOptions'];
  attackMode?: AppDeps['attackMode'];
  /** The proof of work's cost: a cheap one unless a test is about the real cost. */
  powCost?: AppDeps['powCost'];
  /** Wraps the real user repository, e.g. to hold a request at a known point. */
  users?: (real: UserRepository) => UserRepository;
  /** Wraps the real lockout counts, e.g. to hold a sign-in after it was admitted to hashing. */
  failedLogins?: (real: FailedLoginStore) => FailedLoginStore;
  /** Wraps the real security-event store, e.g. to make recording fail. */
  activity?: (real: ActivityStore) => ActivityStore;
  /** How many unknown clients may wait to have a password hashed (the production default otherwise). */
  scryptUnknownQueue?: number;
  /** Told each captcha answer as it is made (in the request's own async context). */
  onAnswer?: (answer: string) => void;
  /** Counts what the app and its stores do (a registry of the app's own otherwise). */
  metrics?: Metrics;
}

let clips: Record<Locale, ClipSet> | undefined;
/** Registers the captcha fonts and loads the audio clips once per test process, as the server does once. */
function captchaAssets(): Record<Locale, ClipSet> {
  if (!clips) {
    registerCaptchaFonts();
    clips = loadAudioClips();
  }
  return clips;
}

export async function build(t: Teardown, options: BuildOptions = {}): Promise<TestApp> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'captcha-login-test-'));
  const stores = await openStores({ dataDir, ...options.storage, pruneIntervalMs: 0, observer: options.metrics?.stores });
  // The manual clock starts at the real time (it still moves only when told): Redis expires
  // keys by its own clock at the times the app computes, and altcha-lib checks a proof of
  // work's expiry against the real time as well as the app's.
  let time = Date.now();
  const clock: ManualClock = { now: () => time, advance: (ms) => (time += ms) };
  const logLines: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const answers: string[] = [];
  const realGenerator = createCodeGenerator();
  const strength = createStrengthEstimator();
  const { users } = stores;
  const app = createApp({
    logger: createLogger('info', logStream),
    stores: {
      ...stores,
      users: options.users?.(users) ?? users,
      failedLogins: options.failedLogins?.(stores.failedLogins) ?? stores.failedLogins,
      activity: options.activity?.(stores.activity) ?? stores.activity,
    },
    sessionSecret: TEST_SECRET,
    attackModeOptions: options.attackModeOptions,
    attackMode: options.attackMode,
    powCost: options.powCost ?? TEST_POW,
    generateCode: () => {
      const answer = realGenerator();
      answers.push(answer);
      options.onAnswer?.(answer);
      return answer;
    },
    captcha: options.captcha,
    clock: clock.now,
    scryptParams: TEST_SCRYPT,
    scryptUnknownQueue: options.scryptUnknownQueue,
    ipRateLimits: options.ipRateLimits ?? false,
    lockout: options.lockout,
    sessionTimeouts: options.sessionTimeouts,
    trustProxyHops: options.trustProxyHops,
    publicOrigin: options.publicOrigin,
    strength,
    audioClips: captchaAssets(),
    metrics: options.metrics,
  });
  t.after(async () => {
    await stores.close();
    await strength.close();
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    app,
    /** The SQLite file; a build on Redis and PostgreSQL has none to look into. */
    get db() {
      if (!stores.db) throw new Error('build(): this app keeps nothing in SQLite');
      return stores.db;
    },
    stores,
    dataDir,
    clock,
    answers,
    logs: () => logLines.join(''),
    agent: () => supertest.agent(app),
    // Seeds the repository directly: test/auth/accounts.test.ts covers the sign-up rules.
    createUser: async (username, password) => {
      await users.create(username, await hashPassword(password, TEST_SCRYPT));
    },
  };
}
