/**
 * Wraps the stores so that any failure of a back-end surfaces as StoreUnavailableError,
 * which the error handler answers with 503 and Retry-After: the request that needed the
 * store is refused (a captcha, a lock or a limit is never skipped), and the next one
 * tries again, so service comes back by itself with the store.
 *
 * Promise-returning methods reject with it (UsernameTakenError and PasskeyTakenError,
 * answers rather than failures, pass as they are); express-session's callback methods pass it
 * to their callback. Everything else (express-session's own helpers, events) is left as
 * it is.
 */
import { PasskeyTakenError, StoreUnavailableError, UsernameTakenError, type RateLimitStoreFactory, type SessionStore } from './ports.js';

/** A store's own answers (a taken name or credential id) pass as they are; every other failure is the back-end's. */
const asUnavailable = (err: unknown) =>
  err instanceof StoreUnavailableError || err instanceof UsernameTakenError || err instanceof PasskeyTakenError ? err : new StoreUnavailableError(err);

/** The object with each of `methods` rejecting with StoreUnavailableError. */
export function guardPromises<T extends object>(target: T, methods: readonly string[]): T {
  return new Proxy(target, {
    get(object, name, receiver) {
      const value: unknown = Reflect.get(object, name, receiver);
      if (typeof name !== 'string' || !methods.includes(name) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => unknown).apply(object, args);
        } catch (err) {
          throw asUnavailable(err);
        }
      };
    },
  });
}

const SESSION_METHODS = ['get', 'set', 'touch', 'destroy', 'length', 'clear', 'all'];

/** The session store with each callback method reporting failures as StoreUnavailableError. */
export function guardSessionStore(store: SessionStore): SessionStore {
  return new Proxy(store, {
    get(object, name, receiver) {
      const value: unknown = Reflect.get(object, name, receiver);
      if (typeof name !== 'string' || !SESSION_METHODS.includes(name) || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const last = args.length - 1;
        const callback = args[last];
        if (typeof callback === 'function') {
          args[last] = (err: unknown, ...rest: unknown[]) => (callback as (...a: unknown[]) => unknown)(err ? asUnavailable(err) : err, ...rest);
        }
        try {
          // On the store itself: its methods use private fields, which a proxy does not have.
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        } catch (err) {
          if (typeof args[last] === 'function') (args[last] as (err: unknown) => void)(err);
          else throw asUnavailable(err);
        }
      };
    },
  });
}

/** Each per-IP counter store with its counting methods rejecting with StoreUnavailableError. */
export function guardRateLimitStores(factory: RateLimitStoreFactory): RateLimitStoreFactory {
  return (name) => guardPromises(factory(name), ['get', 'increment', 'decrement', 'resetKey']);
}
