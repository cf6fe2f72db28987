/**
 * Security events in SQLite, beside the accounts (migrations/sqlite/009). Recording an
 * event also queues its account for trimming (activity_trim_queue), in one transaction;
 * prune() forgets events past ACTIVITY_MAX_AGE_MS, then takes queued accounts and keeps
 * each one's ACTIVITY_KEEP_PER_ACCOUNT newest events of each sort (stranger kinds, the
 * rest). So pruning touches only accounts that recorded something, through the indexes.
 */
import {
  ACTIVITY_KEEP_PER_ACCOUNT,
  ACTIVITY_MAX_AGE_MS,
  STRANGER_EVENT_KINDS,
  type ActivityStore,
  type NewSecurityEvent,
  type SecurityEvent,
  type SecurityEventKind,
} from '../ports.js';
import type { SqliteDatabase } from './database.js';

interface EventRow {
  id: number;
  user_id: number;
  kind: SecurityEventKind;
  at: number;
  network: string | null;
  detail: string | null;
}

/** SQL true for the stranger kinds (a constant list, so it is written into the statement). */
const STRANGER_SQL = `kind IN (${STRANGER_EVENT_KINDS.map((kind) => `'${kind}'`).join(', ')})`;

export class SqliteActivityStore implements ActivityStore {
  readonly #record;
  readonly #latest;
  readonly #pruneOld;
  readonly #trim;

  constructor(db: SqliteDatabase) {
    const insert = db.prepare<[number, string, number, string | null, string | null]>(
      'INSERT INTO security_events (user_id, kind, at, network, detail) VALUES (?, ?, ?, ?, ?)',
    );
    const queue = db.prepare<[number]>('INSERT OR IGNORE INTO activity_trim_queue (user_id) VALUES (?)');
    this.#record = db.transaction((event: NewSecurityEvent) => {
      insert.run(event.userId, event.kind, event.at, event.network ?? null, event.detail ?? null);
      queue.run(event.userId);
    });
    this.#latest = db.prepare<[number, number], EventRow>('SELECT * FROM security_events WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT ?');
    this.#pruneOld = db.prepare<[number, number]>('DELETE FROM security_events WHERE id IN (SELECT id FROM security_events WHERE at < ? LIMIT ?)');
    const take = db.prepare<[number], { user_id: number }>(
      'DELETE FROM activity_trim_queue WHERE user_id IN (SELECT user_id FROM activity_trim_queue LIMIT ?) RETURNING user_id',
    );
    // Each sort apart: the account's events of that sort beyond the newest `keep`.
    const trimSort = (stranger: boolean) =>
      db.prepare<[number, number, number]>(
        `DELETE FROM security_events WHERE user_id = ? AND ${stranger ? '' : 'NOT '}${STRANGER_SQL} AND id NOT IN (
           SELECT id FROM security_events WHERE user_id = ? AND ${stranger ? '' : 'NOT '}${STRANGER_SQL} ORDER BY at DESC, id DESC LIMIT ?)`,
      );
    const trims = [trimSort(true), trimSort(false)];
    this.#trim = db.transaction((limit: number): number => {
      const accounts = take.all(limit);
      let removed = accounts.length;
      for (const { user_id: userId } of accounts) for (const trim of trims) removed += trim.run(userId, userId, ACTIVITY_KEEP_PER_ACCOUNT).changes;
      return removed;
    });
  }

  async record(event: NewSecurityEvent): Promise<void> {
    this.#record.immediate(event);
  }

  async latest(userId: number, limit: number): Promise<SecurityEvent[]> {
    return this.#latest.all(userId, limit).map(toEvent);
  }

  /** Deletes up to `limit` events older than ACTIVITY_MAX_AGE_MS, then trims up to `limit` queued accounts; returns the rows that went. */
  prune(now: number, limit: number): number {
    return this.#pruneOld.run(now - ACTIVITY_MAX_AGE_MS, limit).changes + this.#trim.immediate(limit);
  }
}

function toEvent(row: EventRow): SecurityEvent {
  return { id: row.id, userId: row.user_id, kind: row.kind, at: row.at, network: row.network ?? undefined, detail: row.detail ?? undefined };
}
