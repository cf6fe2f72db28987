/**
 * Who may hash a password now: scrypt takes a core and ~128 MiB for a few hundred ms, so
 * the server can run only a few at once, and a credential-stuffing bot would happily
 * take all of them. The gate hands out those few slots by priority:
 *
 * - `known` (a device the account already trusts, see devices.ts) goes first: it may take
 *   any free slot, and queued known requests are served before any unknown one;
 * - `unknown` (every other client, and sign-ups) may hold at most `concurrency - 1` slots
 *   at once (all of them when there is only one), so a known device never finds every
 *   slot busy with guesses, and waits in a queue of at most `unknownQueue`. A request that
 *   finds that queue full is refused at once with HashingBusyError, which carries an
 *   estimate of when a place frees up (the route answers 503 with Retry-After).
 *
 * A request is admitted *before* the captcha is spent (admit() decides at once and holds
 * its place), so a refusal costs the person nothing but the wait; the password is hashed
 * later through the ticket (run), or the place is given back (cancel) when the request
 * ends before that (wrong captcha, locked account).
 */
import { RefusedError } from '../errors.js';
import { requireInteger } from '../options.js';

export type Priority = 'known' | 'unknown';

/** The unknown clients' queue is full: 503 sign_in_busy, with when to try again. */
export class HashingBusyError extends RefusedError {
  override name = 'HashingBusyError';
  constructor(retryAfterSeconds: number) {
    super('sign_in_busy', 'busy', { retryAfterSeconds });
  }
}

/** A place in the gate: run the hash through it once, or cancel it. */
export interface Ticket {
  readonly priority: Priority;
  /** Whether run() or cancel() was called: the place is spent. */
  readonly used: boolean;
  run<T>(hash: () => Promise<T>): Promise<T>;
  /** Gives the place back unless run() took it; harmless after run() and when called twice. */
  cancel(): void;
}

export interface HashingGate {
  /** Takes a place for `priority`, or throws HashingBusyError when unknown clients' queue is full. */
  admit(priority: Priority): Ticket;
  /** Hashes running and waiting now, by priority. */
  readonly load: Record<Priority, { active: number; waiting: number }>;
}

export interface HashingGateOptions {
  /** Slots: how many hashes may run at once. */
  concurrency: number;
  /** How many unknown clients may wait for a slot; more are refused. */
  unknownQueue: number;
}

interface Waiter {
  priority: Priority;
  granted: boolean;
  grant: () => void;
}

/** A first guess at one hash's duration (production scrypt on this project's 2-core machine), until one is measured. */
const INITIAL_HASH_MS = 450;

export function createHashingGate(options: HashingGateOptions): HashingGate {
  const concurrency = requireInteger('concurrency', options.concurrency, 1);
  const unknownQueue = requireInteger('unknownQueue', options.unknownQueue, 0);
  const unknownSlots = Math.max(1, concurrency - 1);
  const active: Record<Priority, number> = { known: 0, unknown: 0 };
  const queues: Record<Priority, Waiter[]> = { known: [], unknown: [] };
  // A moving average of how long a hash holds its slot, for the Retry-After estimate.
  let hashMs = INITIAL_HASH_MS;

  function pump(): void {
    while (active.known + active.unknown < concurrency) {
      const next = queues.known[0] ?? (active.unknown < unknownSlots ? queues.unknown[0] : undefined);
      if (!next) return;
      queues[next.priority].shift();
      active[next.priority] += 1;
      next.granted = true;
      next.grant();
    }
  }

  function release(priority: Priority): void {
    active[priority] -= 1;
    pump();
  }

  return {
    admit(priority) {
      if (priority === 'unknown' && queues.unknown.length >= unknownQueue && !canStartNow('unknown')) {
        // Everyone ahead, and the running hashes, must finish first.
        const ahead = queues.unknown.length + active.unknown;
        throw new HashingBusyError(Math.max(1, Math.ceil(((ahead / unknownSlots) * hashMs) / 1000)));
      }
      const waiter: Waiter = { priority, granted: false, grant: () => {} };
      const granted = new Promise<void>((resolve) => (waiter.grant = resolve));
      queues[priority].push(waiter);
      pump();
      let done = false;
      let started = false;
      const finish = () => {
        if (done) return;
        done = true;
        if (waiter.granted) release(priority);
        else queues[priority].splice(queues[priority].indexOf(waiter), 1);
      };
      return {
        priority,
        get used() {
          return started || done;
        },
        async run(hash) {
          if (started || done) throw new Error('this ticket was used already');
          started = true;
          await granted;
          const began = performance.now();
          try {
            return await hash();
          } finally {
            hashMs = hashMs * 0.8 + (performance.now() - began) * 0.2;
            finish();
          }
        },
        cancel() {
          // A hash under way gives its place back itself when it ends.
          if (!started) finish();
        },
      };
    },
    get load() {
      return {
        known: { active: active.known, waiting: queues.known.length },
        unknown: { active: active.unknown, waiting: queues.unknown.length },
      };
    },
  };

  function canStartNow(priority: Priority): boolean {
    const free = active.known + active.unknown < concurrency;
    return free && queues.known.length === 0 && (priority === 'known' || (active.unknown < unknownSlots && queues.unknown.length === 0));
  }
}
