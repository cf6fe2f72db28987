/**
 * The node-redis client the Redis stores share. Commands fail at once while the
 * connection is down (no offline queue), so a request that needs Redis fails quickly
 * instead of waiting; the client reconnects by itself, backing off to one try a second.
 */
import { createClient, type RedisClientType } from 'redis';

export type RedisClient = RedisClientType;

const CONNECT_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 1_000;

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
  return client;
}
