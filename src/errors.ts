/**
 * What a domain module throws when it refuses a request: a catalogue code the person is
 * shown, and the kind of refusal, which the one error handler (src/http/errors.ts) turns
 * into the HTTP status. Domain modules (accounts, passkeys, the hashing gate, the strength
 * estimator, and what is built on them) know nothing of HTTP; routes do not catch and
 * re-map their errors.
 */
import type { ErrorCode } from './i18n/messages.js';

export type RefusalKind = 'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'busy';

export interface RefusalDetails {
  /** When to try again (a busy refusal): sent as Retry-After and as the message's {seconds}. */
  retryAfterSeconds?: number;
  /** Why, for the log line (never sent to the client). */
  reason?: string;
}

export class RefusedError extends Error {
  override name = 'RefusedError';
  readonly retryAfterSeconds: number | undefined;
  readonly reason: string | undefined;
  constructor(
    readonly code: ErrorCode,
    readonly kind: RefusalKind,
    details: RefusalDetails = {},
  ) {
    super(details.reason ?? code);
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.reason = details.reason;
  }
}
