/**
 * Sessions in Redis: connect-redis's store (get, touch, length, clear…), with set() and
 * destroy() replaced to keep the tombstone every back-end keeps (ports.ts): destroy()
 * deletes the session and sets a tombstone key for a day, in one script, and set() writes
 * nothing when the tombstone exists, checked and written in one script, so no process can
 * write a destroyed session back. touch() is EXPIRE, which does nothing to a deleted key.
 */
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import type { RedisClient } from './client.js';
import { DESTROY_WITH_TOMBSTONE, SET_UNLESS_DESTROYED } from './scripts.js';

const DEFAULT_TTL_MS = 24 * 60 * 60_000;
const TOMBSTONE_MS = 24 * 60 * 60_000;

type Callback = (err?: unknown, data?: unknown) => unknown;
const noop: Callback = () => undefined;

export class RedisSessionStore extends RedisStore {
  readonly #client: RedisClient;
  readonly #tombstonePrefix: string;

  constructor(client: RedisClient, prefix: string) {
    super({ client, prefix: `${prefix}sess:` });
    this.#client = client;
    this.#tombstonePrefix = `${prefix}sess-destroyed:`;
  }

  override async set(sid: string, record: SessionData, cb: Callback = noop): Promise<unknown> {
    const key = this.prefix + sid;
    const expires = record.cookie?.expires;
    const ttlMs = expires ? new Date(expires).getTime() - Date.now() : DEFAULT_TTL_MS;
    try {
      if (ttlMs <= 0) await this.#client.del(key);
      else {
        await this.#client.eval(SET_UNLESS_DESTROYED, {
          keys: [key, this.#tombstonePrefix + sid],
          arguments: [this.serializer.stringify(record), String(Math.ceil(ttlMs))],
        });
      }
    } catch (err) {
      return cb(err);
    }
    return cb();
  }

  override async destroy(sid: string, cb: Callback = noop): Promise<unknown> {
    try {
      await this.#client.eval(DESTROY_WITH_TOMBSTONE, { keys: [this.prefix + sid, this.#tombstonePrefix + sid], arguments: [String(TOMBSTONE_MS)] });
    } catch (err) {
      return cb(err);
    }
    return cb();
  }
}
