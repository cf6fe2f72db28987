/**
 * Security events in PostgreSQL, beside the accounts (migrations/postgres/005). Recording
 * an event also queues its account for trimming (activity_trim_queue), in one statement;
 * prune() forgets events past ACTIVITY_MAX_AGE_MS, then takes queued accounts and keeps
 * each one's ACTIVITY_KEEP_PER_ACCOUNT newest events of each sort (stranger kinds, the
 * rest), in one statement, so a failure leaves the accounts queued. Instances pruning at
 * once take different accounts (SKIP LOCKED). An event recorded while its account is
 * being trimmed queues it again (the take deleted the row first), so it is trimmed next time.
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
import type { PgPool } from './pool.js';

interface EventRow {
  /** BIGINT: pg returns them as strings. */
  id: string;
  user_id: number;
  kind: SecurityEventKind;
  at: string;
  network: string | null;
  detail: string | null;
}

export class PostgresActivityStore implements ActivityStore {
  constructor(private readonly pool: PgPool) {}

  async record(event: NewSecurityEvent): Promise<void> {
    await this.pool.query(
      `WITH event AS (INSERT INTO security_events (user_id, kind, at, network, detail) VALUES ($1, $2, $3, $4, $5))
       INSERT INTO activity_trim_queue (user_id) VALUES ($1) ON CONFLICT DO NOTHING`,
      [event.userId, event.kind, event.at, event.network ?? null, event.detail ?? null],
    );
  }

  async latest(userId: number, limit: number): Promise<SecurityEvent[]> {
    const { rows } = await this.pool.query<EventRow>('SELECT * FROM security_events WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2', [
      userId,
      limit,
    ]);
    return rows.map((row) => ({
      id: Number(row.id),
      userId: row.user_id,
      kind: row.kind,
      at: Number(row.at),
      network: row.network ?? undefined,
      detail: row.detail ?? undefined,
    }));
  }

  /** Deletes up to `limit` events older than ACTIVITY_MAX_AGE_MS, then trims up to `limit` queued accounts; resolves the rows that went. */
  async prune(now: number, limit: number): Promise<number> {
    const old = await this.pool.query('DELETE FROM security_events WHERE id IN (SELECT id FROM security_events WHERE at < $1 LIMIT $2)', [
      now - ACTIVITY_MAX_AGE_MS,
      limit,
    ]);
    const trimmed = await this.pool.query<{ taken: string; removed: string }>(
      `WITH taken AS (
         DELETE FROM activity_trim_queue WHERE user_id IN (SELECT user_id FROM activity_trim_queue LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING user_id
       ), ranked AS (
         SELECT e.id, row_number() OVER (PARTITION BY e.user_id, e.kind = ANY($3) ORDER BY e.at DESC, e.id DESC) AS rank
         FROM security_events e JOIN taken USING (user_id)
       ), removed AS (
         DELETE FROM security_events WHERE id IN (SELECT id FROM ranked WHERE rank > $2) RETURNING 1
       )
       SELECT (SELECT count(*) FROM taken) AS taken, (SELECT count(*) FROM removed) AS removed`,
      [limit, ACTIVITY_KEEP_PER_ACCOUNT, STRANGER_EVENT_KINDS],
    );
    const row = trimmed.rows[0];
    return (old.rowCount ?? 0) + Number(row?.taken ?? 0) + Number(row?.removed ?? 0);
  }
}
