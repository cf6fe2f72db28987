/**
 * One place that turns failures into responses.
 *
 * Domain modules throw RefusedError (src/errors.ts) with a catalogue code and a kind of
 * refusal, mapped here to the status (the one way from a domain error to HTTP); routes
 * throw HttpError with a status and a catalogue code (and, for a JSON client, any fields the
 * answer carries besides the error, such as a fresh proof-of-work challenge); body-parser's own 4xx errors are mapped to
 * codes too. Either way the client gets the status and a message in its language: JSON
 * for API calls, a page for browsers navigating. A store that failed (StoreUnavailableError)
 * is a 503 with Retry-After: the request was refused, not half done. Anything else is a bug: it is logged
 * with the request's context and answered with a generic 500 that reveals nothing.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { errorMessage, type ErrorCode } from '../i18n/messages.js';
import { RefusedError, type RefusalKind } from '../errors.js';
import { StoreUnavailableError } from '../storage/ports.js';

/** What a 503 for an unavailable store tells the client: the back-ends reconnect within seconds. */
const STORE_RETRY_AFTER_SECONDS = 5;

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    /** When to try again: sent as Retry-After and as the message's {seconds}. */
    readonly retryAfterSeconds?: number,
    /** Fields the body carries beside the error (a fresh proof-of-work challenge). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

const REFUSAL_STATUS: Record<RefusalKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  busy: 503,
};

export interface ErrorBody {
  ok: false;
  error: { code: ErrorCode; message: string };
}

export function sendError(req: Request, res: Response, status: number, code: ErrorCode, retryAfterSeconds?: number, extra: Record<string, unknown> = {}): void {
  res.status(status);
  if (retryAfterSeconds !== undefined) res.set('Retry-After', String(retryAfterSeconds));
  const message = errorMessage(req.locale, code, { seconds: String(retryAfterSeconds ?? '') });
  const wantsPage = req.method === 'GET' && req.accepts(['json', 'html']) === 'html';
  if (wantsPage) {
    const notFound = status === 404;
    res.render('error', {
      title: res.locals.t(notFound ? 'notFoundTitle' : 'errorTitle'),
      message,
    });
    return;
  }
  const body: ErrorBody = { ...extra, ok: false, error: { code, message } };
  res.json(body);
}

export const notFound: RequestHandler = (req, res) => sendError(req, res, 404, 'not_found');

/**
 * Lets through only requests whose target is a path (origin form, or absolute form whose
 * path is one). `OPTIONS *` and other targets without a path get 400: sessions, routing
 * and logs all expect a path, and express-session does not even attach a session there.
 */
export const requirePathTarget: RequestHandler = (req, _res, next) => {
  const path: unknown = req.path;
  if (typeof path !== 'string' || !path.startsWith('/')) throw new HttpError(400, 'invalid_request');
  next();
};

/** Codes for the client errors that body-parser raises before any route runs. */
const BODY_PARSER_CODES: Record<string, ErrorCode> = {
  'entity.parse.failed': 'invalid_json',
  'entity.too.large': 'payload_too_large',
  'encoding.unsupported': 'unsupported_media_type',
  'charset.unsupported': 'unsupported_media_type',
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof HttpError) {
      sendError(req, res, err.status, err.code, err.retryAfterSeconds, err.extra);
      return;
    }
    if (err instanceof RefusedError) {
      if (err.reason !== undefined) req.log.info({ code: err.code, reason: err.reason }, 'request refused');
      sendError(req, res, REFUSAL_STATUS[err.kind], err.code, err.retryAfterSeconds);
      return;
    }
    if (err instanceof StoreUnavailableError) {
      logger.warn({ err: err.cause, req: { id: req.id, method: req.method, path: req.path } }, 'store unavailable');
      sendError(req, res, 503, 'store_unavailable', STORE_RETRY_AFTER_SECONDS);
      return;
    }
    const clientError = asClientError(err);
    if (clientError) {
      sendError(req, res, clientError.status, clientError.code);
      return;
    }
    logger.error({ err, req: { id: req.id, method: req.method, path: req.path } }, 'request failed');
    sendError(req, res, 500, 'internal');
  };
}

function asClientError(err: unknown): { status: number; code: ErrorCode } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, type } = err as { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  const code = typeof type === 'string' ? BODY_PARSER_CODES[type] : undefined;
  return { status, code: code ?? 'invalid_request' };
}
