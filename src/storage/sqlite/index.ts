/**
 * The SQLite back-end: every store in one file in DATA_DIR, the zero-setup default. One
 * process owns the file's per-IP counters (express-rate-limit's memory store), so this
 * back-end does not serve several processes.
 */
import type { Stores } from '../ports.js';
import { migrate, openDataDirDatabase, type SqliteDatabase } from './database.js';
import { SqliteActivityStore } from './activity.js';
import { SqliteDeviceTokenStore } from './device-tokens.js';
import { SqliteAttackSignalStore } from './attack-signals.js';
import { SqliteFailedLoginStore } from './failed-logins.js';
import { SqlitePasskeyRepository } from './passkeys.js';
import { SqliteSessionStore } from './session-store.js';
import { SqliteSpentChallengeLedger } from './spent-challenges.js';
import { SqliteTotpRepository } from './totp.js';
import { SqliteUserRepository } from './users.js';
import { SqliteWebAuthnChallengeStore } from './webauthn-challenges.js';

/** Rows each table loses per prune() call: short enough not to hold the event loop. */
export const PRUNE_BATCH = 500;

export type SqliteStores = Omit<Stores, 'rateLimitStore'> & {
  /** The open file, for tests and scripts that look inside it. */
  db: SqliteDatabase;
};

export function openSqliteStores(dataDir: string, clock: () => number): SqliteStores {
  const db = openDataDirDatabase(dataDir);
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const sessionStore = new SqliteSessionStore({ db, clock });
  const spentChallenges = new SqliteSpentChallengeLedger(db);
  const failedLogins = new SqliteFailedLoginStore(db);
  const deviceTokens = new SqliteDeviceTokenStore(db);
  const webauthnChallenges = new SqliteWebAuthnChallengeStore(db);
  const users = new SqliteUserRepository(db, clock);
  const attackSignals = new SqliteAttackSignalStore(db);
  const activity = new SqliteActivityStore(db);
  const probe = db.prepare('SELECT 1');
  return {
    db,
    users,
    passkeys: new SqlitePasskeyRepository(db),
    totp: new SqliteTotpRepository(db),
    webauthnChallenges,
    failedLogins,
    deviceTokens,
    spentChallenges,
    attackSignals,
    activity,
    sessionStore,
    sessionIndex: sessionStore,
    ping: async () => {
      probe.get();
    },
    prune: async () => {
      const now = clock();
      return (
        sessionStore.prune(now, PRUNE_BATCH) +
        spentChallenges.prune(now, PRUNE_BATCH) +
        webauthnChallenges.prune(now, PRUNE_BATCH) +
        failedLogins.prune(now, PRUNE_BATCH) +
        users.prune(now, PRUNE_BATCH) +
        deviceTokens.prune(now, PRUNE_BATCH) +
        attackSignals.prune(now, PRUNE_BATCH) +
        activity.prune(now, PRUNE_BATCH)
      );
    },
    close: async () => {
      db.close();
    },
  };
}
