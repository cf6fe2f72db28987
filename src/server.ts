/**
 * Starts captcha-login: reads the configuration, opens the SQLite stores in DATA_DIR,
 * listens, and on SIGTERM/SIGINT stops taking connections, lets requests in flight
 * finish, then closes the database.
 */
import { createApp } from './app.js';
import { SqliteUserRepository } from './auth/users.js';
import { SqliteSpentChallengeLedger } from './captcha/sqlite-ledger.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { loadOrCreateDevSecret } from './session/secret.js';
import { SqliteSessionStore } from './session/sqlite-store.js';
import { openDataDirDatabase } from './sqlite.js';

const SHUTDOWN_GRACE_MS = 10_000;

function main(): void {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const db = openDataDirDatabase(config.dataDir);
  const sessionStore = new SqliteSessionStore({ db });
  const app = createApp({
    logger,
    sessionStore,
    sessionSecret: config.sessionSecret ?? loadOrCreateDevSecret(config.dataDir),
    users: new SqliteUserRepository(db),
    spentChallenges: new SqliteSpentChallengeLedger(db),
    captcha: { ttlMs: config.captchaTtlMs, length: config.captchaLength },
    secure: config.env === 'production',
    trustProxyHops: config.trustProxyHops,
  });

  const server = app.listen(config.port, config.host, (err?: Error) => {
    if (err) {
      logger.fatal({ err }, 'could not listen');
      process.exit(1);
    }
    logger.info({ url: `http://${config.host}:${config.port}/login`, dataDir: config.dataDir }, 'captcha-login listening');
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => {
      logger.warn('requests still open after the grace period; closing them');
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    forced.unref();
    server.close(() => {
      sessionStore.close();
      db.close();
      logger.info('stopped');
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main();
