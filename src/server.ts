/**
 * Starts captcha-login: reads the configuration, builds the app on the stores openStores
 * picks, listens, and on SIGTERM/SIGINT stops taking connections, lets requests in
 * flight finish (closing them after an 8 s grace period), then closes the stores; the
 * process exits by 9.5 s in any case (a cluster's primary, which waits for its workers,
 * by 10 s). A signal that comes while the server is still starting (opening its stores)
 * ends it at once: nothing is being served yet.
 *
 * With WORKERS above 1 this process becomes the cluster's primary (src/workers.ts) and
 * each worker it forks runs this same file as the server above, on the shared port.
 * METRICS_PORT adds the metrics listener (src/metrics/): in the primary, collecting from
 * every worker, else in the one process.
 */
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { composeApp } from './compose.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createHttpServer } from './http/listen.js';
import { createLogger } from './logger.js';
import { answerPrimary, workersSource } from './metrics/cluster.js';
import { registrySource, serveMetrics } from './metrics/serve.js';
import { loadOrCreateDevSecret } from './session/secret.js';
import { runPrimary } from './workers.js';

/** Requests in flight get this long to finish after SIGTERM; then their connections are closed. */
const SHUTDOWN_GRACE_MS = 8_000;
/** The process is gone by then, whatever still holds it (a store that does not close); before the primary's 10 s. */
const SHUTDOWN_DEADLINE_MS = 9_500;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logLevel);
  if (cluster.isPrimary && config.workers.count > 1) {
    // Made once here, so that every worker reads the same development secret (production sets SESSION_SECRET).
    if (config.sessionSecret === undefined) loadOrCreateDevSecret(config.dataDir);
    if (config.metrics) serveMetrics(workersSource(), config.metrics, logger);
    runPrimary(config.workers.count, logger);
    return;
  }
  // Until the server is up, a signal simply ends the process (exit code 0, as for a clean stop).
  const stopBeforeStart = (signal: string) => {
    logger.info({ signal }, 'stopped while starting');
    process.exit(0);
  };
  process.on('SIGTERM', stopBeforeStart);
  process.on('SIGINT', stopBeforeStart);
  const { app, metrics, close } = await composeApp(config, logger);
  process.off('SIGTERM', stopBeforeStart);
  process.off('SIGINT', stopBeforeStart);

  if (config.metrics && cluster.isWorker) answerPrimary(metrics.registry);
  const metricsServer = config.metrics && !cluster.isWorker ? serveMetrics(registrySource(metrics.registry), config.metrics, logger) : undefined;
  const { host, port } = config.listen;
  const server = createHttpServer(app, config.listen);
  server.once('error', (err) => {
    logger.fatal({ err }, 'could not listen');
    process.exit(1);
  });
  server.listen(port, host, () => {
    const url = `http://${host}:${(server.address() as AddressInfo).port}/login`;
    logger.info({ url, dataDir: config.dataDir }, 'captcha-login listening');
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
    const deadline = setTimeout(() => {
      logger.error('still not stopped at the shutdown deadline; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    // Metrics are not worth waiting for: a scrape under way does not hold the exit.
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    server.close(() => {
      void close()
        .then(
          () => logger.info('stopped'),
          (err: unknown) => {
            // A store that fails to close must leave a log line and a failing exit code, not an unhandled rejection.
            logger.error({ err }, 'closing the stores failed');
            process.exitCode = 1;
          },
        )
        // A worker's channel to the primary would keep it alive; everything else is closed.
        .finally(() => cluster.worker?.disconnect());
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  // Before a logger exists (the stores could not be opened): one line, no stack.
  console.error(`captcha-login could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
