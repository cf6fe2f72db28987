/**
 * Wraps the stores so that any failure of a back-end surfaces as StoreUnavailableError,
 * which the error handler answers with 503 and Retry-After: the request that needed the
 * store is refused (a captcha, a lock or a limit is never skipped), and the next one
 * tries again, so service comes back by itself with the store.
 *
 * Promise-returning methods reject with it (UsernameTakenError and PasskeyTakenError,
 * answers rather than failures, pass as they are); express-session's callback methods pass it
 * to their callback. Everything else (express-session's own helpers, events) is left as
 * it is. The error names the store, and an observer (the app's metrics) is told how long
 * each call took and whether the back-end failed.
 */
import { PasskeyTakenError, StoreUnavailableError, UsernameTakenError, type RateLimitStoreFactory, type SessionStore } from './ports.js';

/** Told of every guarded call: its store and method, how long it took, and whether the back-end failed. */
export interface StoreObserver {
  called(store: string, method: string, seconds: number, failed: boolean): void;
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** A store's own answers (a taken name or credential id) pass as they are; every other failure is the back-end's. */
const asUnavailable = (err: unknown, store: string) =>
  err instanceof StoreUnavailableError || err instanceof UsernameTakenError || err instanceof PasskeyTakenError ? err : new StoreUnavailableError(err, store);

/** The object with each of `methods` rejecting with StoreUnavailableError naming `store`. */
export function guardPromises<T extends object>(target: T, methods: readonly string[], store: string, observer?: StoreObserver): T {
  return new Proxy(target, {
    get(object, name, receiver) {
      const value: unknown = Reflect.get(object, name, receiver);
      if (typeof name !== 'string' || !methods.includes(name) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const began = performance.now();
        let failed = false;
        try {
          return await (value as (...a: unknown[]) => unknown).apply(object, args);
        } catch (err) {
          const guarded = asUnavailable(err, store);
          failed = guarded instanceof StoreUnavailableError;
          throw guarded;
        } finally {
          observer?.called(store, name, seconds(began), failed);
        }
      };
    },
  });
}

const SESSION_METHODS = ['get', 'set', 'touch', 'destroy', 'length', 'clear', 'all'];
const SESSIONS = 'sessions';

/** The session store with each callback method reporting failures as StoreUnavailableError. */
export function guardSessionStore(store: SessionStore, observer?: StoreObserver): SessionStore {
  return new Proxy(store, {
    get(object, name, receiver) {
      const value: unknown = Reflect.get(object, name, receiver);
      if (typeof name !== 'string' || !SESSION_METHODS.includes(name) || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const last = args.length - 1;
        const callback = args[last];
        const began = performance.now();
        if (typeof callback === 'function') {
          args[last] = (err: unknown, ...rest: unknown[]) => {
            observer?.called(SESSIONS, name, seconds(began), Boolean(err));
            return (callback as (...a: unknown[]) => unknown)(err ? asUnavailable(err, SESSIONS) : err, ...rest);
          };
        }
        try {
          // On the store itself: its methods use private fields, which a proxy does not have.
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        } catch (err) {
          if (typeof args[last] === 'function') (args[last] as (err: unknown) => void)(err);
          else throw asUnavailable(err, SESSIONS);
        }
      };
    },
  });
}

/** Each per-IP counter store with its counting methods rejecting with StoreUnavailableError. */
export function guardRateLimitStores(factory: RateLimitStoreFactory, observer?: StoreObserver): RateLimitStoreFactory {
  return (name) => guardPromises(factory(name), ['get', 'increment', 'decrement', 'resetKey'], 'rate_limits', observer);
}
