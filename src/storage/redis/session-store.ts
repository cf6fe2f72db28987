/**
 * Sessions in Redis: connect-redis's store (get, length, clear…), with set(), touch() and
 * destroy() replaced to keep the tombstone every back-end keeps (ports.ts): destroy()
 * deletes the session and sets a tombstone key for a day, in one script, and set() writes
 * nothing when the tombstone exists, checked and written in one script, so no process can
 * write a destroyed session back. touch() moves the expiry of a session that still exists.
 *
 * It is also the index of each account's sessions (SessionIndex): a sorted set per account
 * (`sess-user:<id>`, sids scored by expiry), changed by the same scripts as the sessions
 * (scripts.ts), so it is exact under sign-in, sign-out and expiry. Its keys do not match
 * connect-redis's `sess:*`, so length() and all() never read them as sessions.
 */
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import type { AccountSession, SessionIndex } from '../ports.js';
import type { RedisClient } from './client.js';
import { DESTROY_ALL_OF, DESTROY_IF_OWNED, DESTROY_WITH_TOMBSTONE, SET_UNLESS_DESTROYED, TOUCH_SESSION } from './scripts.js';

const DEFAULT_TTL_MS = 24 * 60 * 60_000;
const TOMBSTONE_MS = 24 * 60 * 60_000;

type Callback = (err?: unknown, data?: unknown) => unknown;
const noop: Callback = () => undefined;

export class RedisSessionStore extends RedisStore implements SessionIndex {
  readonly #client: RedisClient;
  readonly #tombstonePrefix: string;
  readonly #indexPrefix: string;

  constructor(client: RedisClient, prefix: string) {
    super({ client, prefix: `${prefix}sess:` });
    this.#client = client;
    this.#tombstonePrefix = `${prefix}sess-destroyed:`;
    this.#indexPrefix = `${prefix}sess-user:`;
  }

  override async set(sid: string, record: SessionData, cb: Callback = noop): Promise<unknown> {
    const key = this.prefix + sid;
    const now = Date.now();
    const expiresAt = this.#expiresAt(record, now);
    try {
      if (expiresAt <= now) {
        // An expired cookie deletes the session (as connect-redis does), without a tombstone.
        await this.#client.del(key);
        if (record.user !== undefined) await this.#client.zRem(this.#indexOf(record.user.id), sid);
      } else {
        await this.#client.eval(SET_UNLESS_DESTROYED, {
          keys: [key, this.#tombstonePrefix + sid, ...this.#indexKeyOf(record)],
          arguments: [this.serializer.stringify(record), String(expiresAt - now), String(expiresAt), sid, String(now)],
        });
      }
    } catch (err) {
      return cb(err);
    }
    return cb();
  }

  override async touch(sid: string, record: SessionData, cb: Callback = noop): Promise<unknown> {
    const now = Date.now();
    const expiresAt = this.#expiresAt(record, now);
    try {
      await this.#client.eval(TOUCH_SESSION, {
        keys: [this.prefix + sid, ...this.#indexKeyOf(record)],
        arguments: [String(Math.max(1, expiresAt - now)), String(expiresAt), sid, String(now)],
      });
    } catch (err) {
      return cb(err);
    }
    return cb();
  }

  override async destroy(sid: string, cb: Callback = noop): Promise<unknown> {
    try {
      await this.#client.eval(DESTROY_WITH_TOMBSTONE, {
        keys: [this.prefix + sid, this.#tombstonePrefix + sid],
        arguments: [String(TOMBSTONE_MS), this.#indexPrefix, sid],
      });
    } catch (err) {
      return cb(err);
    }
    return cb();
  }

  async listFor(userId: number, now: number): Promise<AccountSession[]> {
    const members = await this.#client.zRangeByScoreWithScores(this.#indexOf(userId), `(${now}`, '+inf');
    if (members.length === 0) return [];
    const records = await this.#client.mGet(members.map(({ value }) => this.prefix + value));
    const found: AccountSession[] = [];
    members.forEach(({ value: sid, score }, i) => {
      const raw = records[i];
      if (!raw) return;
      const data = this.serializer.parse(raw) as SessionData;
      // The index is the account's by construction; the record says so too, or it is not listed.
      if (data.user?.id === userId) found.push({ sid, data, expiresAt: score });
    });
    return found;
  }

  async destroyFor(userId: number, sid: string): Promise<boolean> {
    const destroyed = await this.#client.eval(DESTROY_IF_OWNED, {
      keys: [this.prefix + sid, this.#tombstonePrefix + sid, this.#indexOf(userId)],
      arguments: [String(userId), String(TOMBSTONE_MS), sid],
    });
    return destroyed === 1;
  }

  async destroyAllFor(userId: number, exceptSid?: string): Promise<number> {
    const gone = await this.#client.eval(DESTROY_ALL_OF, {
      keys: [this.#indexOf(userId)],
      arguments: [String(userId), String(TOMBSTONE_MS), exceptSid ?? '', this.prefix, this.#tombstonePrefix],
    });
    return Number(gone);
  }

  #indexOf(userId: number): string {
    return `${this.#indexPrefix}${userId}`;
  }

  /** The record's account index as a script's last key: none for an anonymous session. */
  #indexKeyOf(record: SessionData): string[] {
    return record.user === undefined ? [] : [this.#indexOf(record.user.id)];
  }

  #expiresAt(record: SessionData, now: number): number {
    const expires = record.cookie?.expires;
    return expires ? new Date(expires).getTime() : now + DEFAULT_TTL_MS;
  }
}
