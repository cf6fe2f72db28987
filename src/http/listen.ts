/**
 * The HTTP server around the app, with its timeouts set on purpose rather than left at
 * Node's defaults (there a request body may trickle in for 300 s, and expired requests are
 * only looked for every 30 s). A client gets `headersTimeoutMs` to send its headers and
 * `requestTimeoutMs` to send the whole request, body included, or it gets 408 and the
 * connection is closed; an idle kept-alive connection is closed after `keepAliveTimeoutMs`.
 * Expired connections are looked for every second.
 */
import http from 'node:http';
import { z } from 'zod';
import { envInteger } from '../options.js';

export interface ListenOptions {
  host: string;
  port: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const listenEnv = z
  .object({
    HOST: z.string().trim().min(1).default('127.0.0.1'),
    PORT: envInteger(0, 65535).default(3000),
    HTTP_HEADERS_TIMEOUT_SECONDS: envInteger(1, 600).default(10),
    HTTP_REQUEST_TIMEOUT_SECONDS: envInteger(1, 3600).default(20),
    HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: envInteger(1, 600).default(5),
  })
  .superRefine((env, ctx) => {
    if (env.HTTP_HEADERS_TIMEOUT_SECONDS > env.HTTP_REQUEST_TIMEOUT_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['HTTP_HEADERS_TIMEOUT_SECONDS'], message: 'must not exceed HTTP_REQUEST_TIMEOUT_SECONDS' });
    }
  })
  .transform(
    (env): ListenOptions => ({
      host: env.HOST,
      port: env.PORT,
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
    }),
  );

const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/** An HTTP server for `app` with the timeouts above; not yet listening. */
export function createHttpServer(app: http.RequestListener, options: Omit<ListenOptions, 'host' | 'port'>): http.Server {
  const server = http.createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    },
    app,
  );
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  return server;
}
