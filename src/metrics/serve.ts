/**
 * GET /metrics in Prometheus's text format, on a listener of its own: never on the app's
 * port, so nothing a visitor can reach shows it. Off unless METRICS_PORT is set; it binds
 * to 127.0.0.1 unless METRICS_HOST says otherwise, and an address beyond the machine is
 * refused without METRICS_TOKEN, a bearer token every scrape must then send.
 *
 * What a scrape reads is a MetricsSource: this process's registry, or with WORKERS > 1
 * the primary's collection from every worker (cluster.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { listenEnv } from '../http/listen.js';
import { defaultsOf, envInteger } from '../options.js';

export interface MetricsConfig {
  port: number;
  host: string;
  /** When set, each scrape must send `Authorization: Bearer <token>`. */
  token: string | undefined;
}

const LISTEN_DEFAULTS = defaultsOf(listenEnv);

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** The metrics listener, or undefined (the default: nothing served). */
export const metricsEnv = z
  .object({
    METRICS_PORT: envInteger(0, 65535).optional(),
    METRICS_HOST: z.string().trim().min(1).optional(),
    METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    // Read only to compare: listenEnv checks it (and says so when it is bad).
    PORT: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    if (env.METRICS_PORT === undefined) {
      // Set without the port, they would look like protection of something that is not served.
      for (const name of ['METRICS_HOST', 'METRICS_TOKEN'] as const) {
        if (env[name] !== undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'has no effect without METRICS_PORT (metrics are off)' });
      }
      return;
    }
    const port = env.PORT === undefined ? LISTEN_DEFAULTS.port : Number(env.PORT);
    if (env.METRICS_PORT !== 0 && env.METRICS_PORT === port) {
      ctx.addIssue({ code: 'custom', path: ['METRICS_PORT'], message: `must differ from PORT (${port}): metrics are never served on the app's port` });
    }
    if (env.METRICS_HOST !== undefined && !isLoopback(env.METRICS_HOST) && env.METRICS_TOKEN === undefined) {
      ctx.addIssue({ code: 'custom', path: ['METRICS_TOKEN'], message: `is required when METRICS_HOST (${env.METRICS_HOST}) is not a loopback address` });
    }
  })
  .transform((env): MetricsConfig | undefined =>
    env.METRICS_PORT === undefined ? undefined : { port: env.METRICS_PORT, host: env.METRICS_HOST ?? '127.0.0.1', token: env.METRICS_TOKEN },
  );

export interface MetricsSource {
  contentType: string;
  /** The exposition text; rejects when it cannot be had (a worker that did not answer). */
  read(): Promise<string>;
}

/** One process's own registry (WORKERS=1). */
export function registrySource(registry: Registry): MetricsSource {
  return { contentType: registry.contentType, read: () => registry.metrics() };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The metrics server for `source`, not yet listening. */
export function createMetricsServer(source: MetricsSource, token: string | undefined, logger: Logger): http.Server {
  const expected = token === undefined ? undefined : digest(`Bearer ${token}`);
  return http.createServer((req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return void res.writeHead(404).end();
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    // Compared as digests, in constant time: neither the token nor its length leaks through timing.
    if (expected && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      return void res.writeHead(401, { 'WWW-Authenticate': 'Bearer' }).end();
    }
    source.read().then(
      (text) => res.writeHead(200, { 'Content-Type': source.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        logger.warn({ err }, 'metrics could not be collected');
        res.writeHead(503).end();
      },
    );
  });
}

/** Serves `source` as configured; logs its URL once listening. */
export function serveMetrics(source: MetricsSource, config: MetricsConfig, logger: Logger): http.Server {
  const server = createMetricsServer(source, config.token, logger);
  server.once('error', (err) => {
    logger.fatal({ err }, 'could not listen for metrics');
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    logger.info({ url: `http://${host}:${port}/metrics`, token: config.token !== undefined }, 'metrics listening');
  });
  return server;
}
