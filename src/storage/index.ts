/**
 * openStores(options): the one place that picks the storage back-ends and wires them.
 * The server, the CLI, the tests and the scripts all get their stores here.
 *
 * SQLite (in DATA_DIR) is the default for everything. REDIS_URL moves what several
 * processes must share at once and what expires by itself to Redis: sessions, the per-IP
 * counters, the lockout's counts and known devices, the spent-challenge ledger, the
 * issued WebAuthn challenges and attack mode's counters. DATABASE_URL moves the accounts with their passkeys, TOTP
 * factors and security events (durable, so they stay with the accounts) to PostgreSQL. The SQLite file is opened only while
 * some store still lives there.
 *
 * It also runs the one pruning loop: every `pruneIntervalMs` the SQLite back-end deletes
 * what has expired in batches (yielding between them), so every growing table stays the
 * size of what is live; Redis keys carry their own expiry, and PostgreSQL keeps
 * accounts, passkeys and TOTP factors, which do not expire (its pruning clears the sign-up key hashes
 * of accounts past SIGNUP_KEY_MS), and security events, pruned by age and count.
 */
import { z } from 'zod';
import { defaultsOf } from '../options.js';
import { guardPromises, guardRateLimitStores, guardSessionStore, type StoreObserver } from './guard.js';
import type { Stores } from './ports.js';
import { openPostgresStores } from './postgres/index.js';
import { openRedisStores } from './redis/index.js';
import type { SqliteDatabase } from './sqlite/database.js';
import { openSqliteStores, type SqliteStores } from './sqlite/index.js';

export const storageEnv = z
  .object({
    REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).optional(),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 : _ . -')
      .default('captcha-login:'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// or postgresql:// URL' }).optional(),
  })
  .transform((env) => ({ redisUrl: env.REDIS_URL, redisKeyPrefix: env.REDIS_KEY_PREFIX, databaseUrl: env.DATABASE_URL }));

export type StorageConfig = z.output<typeof storageEnv>;
const STORAGE_DEFAULTS: StorageConfig = defaultsOf(storageEnv);

export interface StorageOptions extends Partial<StorageConfig> {
  /** Folder of the SQLite file. */
  dataDir: string;
  clock?: () => number;
  /** How often expired rows are pruned, in ms; 0 leaves it to explicit prune() calls. */
  pruneIntervalMs?: number;
  /** Told about a failed pruning run (the next one tries again) and about connection errors. */
  onError?: (err: unknown) => void;
  /** Told of every store call (the app's metrics). */
  observer?: StoreObserver;
}

const PRUNE_INTERVAL_MS = 5 * 60_000;

export type OpenStores = Stores & {
  /** The SQLite file, when some store lives there (for tests and scripts that look inside). */
  db?: SqliteDatabase;
};

export async function openStores(options: StorageOptions): Promise<OpenStores> {
  const onError = options.onError ?? (() => {});
  const clock = options.clock ?? Date.now;
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  };
  try {
    const redis = options.redisUrl === undefined ? undefined : await openRedisStores(options.redisUrl, options.redisKeyPrefix ?? STORAGE_DEFAULTS.redisKeyPrefix, onError);
    if (redis) closers.push(redis.close);
    const postgres = options.databaseUrl === undefined ? undefined : await openPostgresStores(options.databaseUrl, clock, onError);
    if (postgres) closers.push(postgres.close);
    const sqlite = redis && postgres ? undefined : openSqliteStores(options.dataDir, clock);
    if (sqlite) closers.push(sqlite.close);
    // SQLite is open whenever Redis or PostgreSQL is not, so it holds whatever they do not.
    const fromSqlite = <K extends keyof SqliteStores>(key: K): SqliteStores[K] => {
      if (!sqlite) throw new Error(`openStores: no back-end for ${key}`);
      return sqlite[key];
    };
    const prunes = [sqlite?.prune, postgres?.prune].filter((prune) => prune !== undefined);
    const prune = async () => (await Promise.all(prunes.map((each) => each()))).reduce((sum, n) => sum + n, 0);
    const stopPruning = startPruning(prune, options.pruneIntervalMs ?? PRUNE_INTERVAL_MS, onError);
    const pings = [redis?.ping, postgres?.ping, sqlite?.ping].filter((ping) => ping !== undefined);
    const { observer } = options;
    const health = guardPromises({ ping: async () => void (await Promise.all(pings.map((ping) => ping()))) }, ['ping'], 'ping', observer);
    return {
      db: sqlite?.db,
      users: guardPromises(postgres?.users ?? fromSqlite('users'), ['findByUsername', 'create', 'setPasswordHash', 'findById', 'setDisabled', 'list', 'delete'], 'users', observer),
      passkeys: guardPromises(postgres?.passkeys ?? fromSqlite('passkeys'), ['add', 'find', 'listFor', 'recordUse', 'remove'], 'passkeys', observer),
      totp: guardPromises(postgres?.totp ?? fromSqlite('totp'), ['enable', 'find', 'useRecoveryCode', 'replaceRecoveryCodes', 'disable'], 'totp', observer),
      sessionStore: guardSessionStore(redis?.sessionStore ?? fromSqlite('sessionStore'), observer),
      sessionIndex: guardPromises(redis?.sessionStore ?? fromSqlite('sessionIndex'), ['listFor', 'destroyFor', 'destroyAllFor'], 'sessions', observer),
      failedLogins: guardPromises(redis?.failedLogins ?? fromSqlite('failedLogins'), ['tryAttempt', 'refund', 'clear', 'clearPrefixed'], 'failed_logins', observer),
      deviceTokens: guardPromises(redis?.deviceTokens ?? fromSqlite('deviceTokens'), ['trust', 'knows', 'revoke', 'revokeAll'], 'device_tokens', observer),
      spentChallenges: guardPromises(redis?.spentChallenges ?? fromSqlite('spentChallenges'), ['claim'], 'spent_challenges', observer),
      webauthnChallenges: guardPromises(redis?.webauthnChallenges ?? fromSqlite('webauthnChallenges'), ['put', 'take'], 'webauthn_challenges', observer),
      attackSignals: guardPromises(redis?.attackSignals ?? fromSqlite('attackSignals'), ['record', 'read'], 'attack_signals', observer),
      // With the accounts: removed with them, by the database.
      activity: guardPromises(postgres?.activity ?? fromSqlite('activity'), ['record', 'latest'], 'activity', observer),
      rateLimitStore: redis && guardRateLimitStores(redis.rateLimitStore, observer),
      ping: health.ping,
      prune,
      close: async () => {
        stopPruning();
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function startPruning(prune: () => Promise<number>, intervalMs: number, onError: (err: unknown) => void): () => void {
  if (intervalMs <= 0) return () => {};
  let running = false;
  let stopped = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      while (!stopped && (await prune()) > 0) await new Promise((resolve) => setImmediate(resolve));
    } catch (err) {
      onError(err);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
