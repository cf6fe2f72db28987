/**
 * The node-redis client the Redis stores share. Commands fail at once while the
 * connection is down (no offline queue), so a request that needs Redis fails quickly
 * instead of waiting; the client reconnects by itself, backing off to one try a second.
 *
 * A server that is up but does not answer (hung, or a network that drops packets) is
 * the other way to wait for ever: node-redis's own command timeout and abort signal stop
 * counting once a command is written to the socket, and its socket timeout counts our
 * own writes as activity. So the stores get the client behind a proxy that gives every
 * command (every promise a method returns: get, eval, sendCommand…) COMMAND_TIMEOUT_MS;
 * one that misses it fails, and the connection is dropped and made again, since one that
 * let a command go unanswered cannot be trusted with the next. Commands in flight then
 * fail at once, and the fresh connection comes up when the server answers again.
 */
import { createClient, type RedisClientType } from 'redis';

export type RedisClient = RedisClientType;

const CONNECT_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 1_000;
/** Redis answers in well under a millisecond here; a second without an answer is an outage. */
export const COMMAND_TIMEOUT_MS = 1_000;

/** What a once-only key keeps for at least, whatever its own expiry: another process's clock may run behind. */
const MIN_KEEP_MS = 60_000;

/** The expiry of a key that must live until `expiresAt` (ms since the epoch), and at least MIN_KEEP_MS from now. */
export function keepUntil(expiresAt: number): { type: 'PXAT'; value: number } {
  return { type: 'PXAT', value: Math.max(expiresAt, Date.now() + MIN_KEEP_MS) };
}

export class RedisTimeoutError extends Error {
  override name = 'RedisTimeoutError';
}

export async function connectRedis(url: string, onError: (err: unknown) => void): Promise<RedisClient> {
  const client: RedisClient = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
    },
  });
  // Without a listener an 'error' event would end the process; reconnecting is the client's job.
  client.on('error', onError);
  await client.connect();
  return withCommandDeadline(client, onError);
}

/** Methods that manage the connection rather than send a command: no deadline. */
const CONNECTION_METHODS = new Set(['connect', 'close', 'quit', 'disconnect', 'destroy']);

function withCommandDeadline(client: RedisClient, onError: (err: unknown) => void): RedisClient {
  let reconnecting = false;
  const reconnect = () => {
    if (reconnecting || !client.isOpen) return;
    reconnecting = true;
    client.destroy();
    client
      .connect()
      .catch(onError)
      .finally(() => (reconnecting = false));
  };
  const withDeadline = (reply: Promise<unknown>) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new RedisTimeoutError(`Redis did not answer within ${COMMAND_TIMEOUT_MS} ms`));
        onError(new RedisTimeoutError(`a command got no answer within ${COMMAND_TIMEOUT_MS} ms; reconnecting`));
        reconnect();
      }, COMMAND_TIMEOUT_MS);
    });
    // The reply may still come (or fail) after the deadline; nobody waits for it then.
    reply.catch(() => {});
    return Promise.race([reply, deadline]).finally(() => clearTimeout(timer));
  };
  return new Proxy(client, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || (typeof name === 'string' && CONNECTION_METHODS.has(name))) return value;
      return (...args: unknown[]) => {
        // On the client itself: node-redis reaches its own private fields through `this`.
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return result instanceof Promise ? withDeadline(result) : result;
      };
    },
  });
}
