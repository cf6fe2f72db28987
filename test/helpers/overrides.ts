/**
 * A store with some of its methods replaced by a test (to fail, hold or count them) and
 * every other one the real store's, so a wrapper keeps working when a port gains a method.
 * A spread would not do: a store's methods live on its class, not on the object.
 */
export function withOverrides<T extends object>(real: T, overrides: Partial<T>): T {
  return new Proxy(real, {
    get: (target, name, receiver) => (Object.hasOwn(overrides, name) ? overrides[name as keyof T] : Reflect.get(target, name, receiver)),
  });
}
