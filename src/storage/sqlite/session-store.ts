/**
 * An express-session Store kept in the app's SQLite file.
 *
 * One row per session: the JSON record and its expiry time (from the cookie's expiry, so
 * store and browser agree). Reads ignore expired rows, and prune() deletes them, so the
 * table stays as large as the live sessions.
 *
 * express-session does not lock: a request that loaded a session before sign-out (or
 * sign-in's regenerate) destroyed it would write its stale copy back when it ends, and
 * the old cookie would be signed in again. So destroy() leaves a tombstone, and set()
 * writes nothing for a sid that has one (one INSERT … WHERE NOT EXISTS); tombstones
 * outlive any request (a day) and are pruned with the expired sessions. better-sqlite3 is
 * synchronous, so each call stays short: pruning deletes in batches.
 *
 * It is also the index of each account's sessions (SessionIndex): every set() writes the
 * record's user id in the same row (user_id, migrations/sqlite/007), so the index changes
 * with the record, and goes with the row when it is destroyed, expires or is pruned.
 */
import session, { type SessionData } from 'express-session';
import { requireInteger } from '../../options.js';
import type { AccountSession, SessionIndex } from '../ports.js';
import type { SqliteDatabase } from './database.js';

export interface SqliteSessionStoreOptions {
  db: SqliteDatabase;
  /** Lifetime of a session whose cookie has no expiry, in ms. */
  defaultTtlMs?: number;
  clock?: () => number;
}

const DEFAULT_TTL_MS = 24 * 60 * 60_000;
export const TOMBSTONE_MS = 24 * 60 * 60_000;

type Callback = (err?: unknown) => void;

interface IndexedRow {
  sid: string;
  data: string;
  expires_at: number;
}

export class SqliteSessionStore extends session.Store implements SessionIndex {
  readonly #now: () => number;
  readonly #defaultTtlMs: number;
  readonly #statements;

  constructor(options: SqliteSessionStoreOptions) {
    super();
    this.#defaultTtlMs = requireInteger('defaultTtlMs', options.defaultTtlMs ?? DEFAULT_TTL_MS, 1);
    this.#now = options.clock ?? Date.now;
    const { db } = options;
    const deleteSession = db.prepare<[string]>('DELETE FROM sessions WHERE sid = ?');
    const addTombstone = db.prepare<[string, number]>('INSERT OR REPLACE INTO destroyed_sessions (sid, expires_at) VALUES (?, ?)');
    const deleteLive = db.prepare<[string, number, number]>('DELETE FROM sessions WHERE sid = ? AND user_id = ? AND expires_at > ?');
    const deleteAllOf = db.prepare<[number, string | null], { sid: string; expires_at: number }>(
      'DELETE FROM sessions WHERE user_id = ? AND sid IS NOT ? RETURNING sid, expires_at',
    );
    this.#statements = {
      get: db.prepare<[string, number], { data: string }>('SELECT data FROM sessions WHERE sid = ? AND expires_at > ?'),
      set: db.prepare<[string, string, number, number | null, string]>(
        `INSERT INTO sessions (sid, data, expires_at, user_id)
         SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM destroyed_sessions WHERE sid = ?)
         ON CONFLICT (sid) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, user_id = excluded.user_id`,
      ),
      touch: db.prepare<[number, string]>('UPDATE sessions SET expires_at = ? WHERE sid = ?'),
      destroy: db.transaction((sid: string, tombstoneUntil: number) => {
        deleteSession.run(sid);
        addTombstone.run(sid, tombstoneUntil);
      }),
      listFor: db.prepare<[number, number], IndexedRow>('SELECT sid, data, expires_at FROM sessions WHERE user_id = ? AND expires_at > ?'),
      destroyFor: db.transaction((userId: number, sid: string, now: number): boolean => {
        if (deleteLive.run(sid, userId, now).changes === 0) return false;
        addTombstone.run(sid, now + TOMBSTONE_MS);
        return true;
      }),
      // Expired rows of the account go too (pruning would take them anyway); only live ones are counted.
      destroyAllFor: db.transaction((userId: number, exceptSid: string | null, now: number): number => {
        const gone = deleteAllOf.all(userId, exceptSid);
        for (const row of gone) addTombstone.run(row.sid, now + TOMBSTONE_MS);
        return gone.filter((row) => row.expires_at > now).length;
      }),
      prune: db.prepare<[number, number]>(
        'DELETE FROM sessions WHERE sid IN (SELECT sid FROM sessions WHERE expires_at <= ? LIMIT ?)',
      ),
      pruneTombstones: db.prepare<[number, number]>(
        'DELETE FROM destroyed_sessions WHERE sid IN (SELECT sid FROM destroyed_sessions WHERE expires_at <= ? LIMIT ?)',
      ),
      count: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM sessions WHERE expires_at > ?'),
      clear: db.prepare('DELETE FROM sessions'),
    };
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.#run(callback, () => {
      const row = this.#statements.get.get(sid, this.#now());
      return row ? (JSON.parse(row.data) as SessionData) : null;
    });
  }

  override set(sid: string, record: SessionData, callback?: Callback): void {
    this.#run(callback, () => {
      this.#statements.set.run(sid, JSON.stringify(record), this.#expiresAt(record), record.user?.id ?? null, sid);
    });
  }

  override touch(sid: string, record: SessionData, callback?: Callback): void {
    this.#run(callback, () => {
      this.#statements.touch.run(this.#expiresAt(record), sid);
    });
  }

  override destroy(sid: string, callback?: Callback): void {
    this.#run(callback, () => {
      this.#statements.destroy(sid, this.#now() + TOMBSTONE_MS);
    });
  }

  override length(callback: (err: unknown, length?: number) => void): void {
    this.#run(callback, () => this.#statements.count.get(this.#now())?.n ?? 0);
  }

  override clear(callback?: Callback): void {
    this.#run(callback, () => {
      this.#statements.clear.run();
    });
  }

  async listFor(userId: number, now: number): Promise<AccountSession[]> {
    return this.#statements.listFor.all(userId, now).map((row) => ({ sid: row.sid, data: JSON.parse(row.data) as SessionData, expiresAt: row.expires_at }));
  }

  async destroyFor(userId: number, sid: string): Promise<boolean> {
    return this.#statements.destroyFor(userId, sid, this.#now());
  }

  async destroyAllFor(userId: number, exceptSid?: string): Promise<number> {
    return this.#statements.destroyAllFor(userId, exceptSid ?? null, this.#now());
  }

  /** Deletes up to `limit` expired sessions and as many old tombstones; returns how many rows went. */
  prune(now: number, limit: number): number {
    return this.#statements.prune.run(now, limit).changes + this.#statements.pruneTombstones.run(now, limit).changes;
  }

  #expiresAt(record: SessionData): number {
    const expires = record.cookie?.expires;
    return expires ? new Date(expires).getTime() : this.#now() + this.#defaultTtlMs;
  }

  #run<T>(callback: ((err: unknown, value?: T) => void) | undefined, work: () => T): void {
    let value: T;
    try {
      value = work();
    } catch (err) {
      callback?.(err);
      return;
    }
    callback?.(null, value);
  }
}
