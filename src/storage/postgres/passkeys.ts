/**
 * Passkeys in PostgreSQL, beside the accounts (migrations/postgres/002). The credential
 * id is the primary key, so a credential cannot be stored twice. add counts and inserts
 * in one transaction holding the account's row lock (SELECT … FOR UPDATE on users), so
 * adds to one account wait for each other and the count cannot go stale before the
 * insert (under READ COMMITTED, a plain INSERT … SELECT count would let two adds both see
 * room). recordUse is one conditional UPDATE, so of two sign-ins reporting the same
 * counter on any number of instances only one writes.
 */
import { PasskeyTakenError, type NewPasskey, type Passkey, type PasskeyRepository } from '../ports.js';
import type { PgPool } from './pool.js';

interface PasskeyRow {
  id: string;
  user_id: number;
  public_key: Buffer;
  /** BIGINT: pg returns them as strings. */
  counter: string;
  transports: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

const UNIQUE_VIOLATION = '23505';

export class PostgresPasskeyRepository implements PasskeyRepository {
  constructor(private readonly pool: PgPool) {}

  async add(passkey: NewPasskey, maxPerAccount: number): Promise<boolean> {
    const client = await this.pool.connect();
    let reusable = true;
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [passkey.userId]);
      // A new statement, so a new snapshot: it sees the passkeys of every add that held the lock before.
      const { rowCount } = await client.query(
        `INSERT INTO passkeys (id, user_id, public_key, counter, transports, name, created_at)
         SELECT $1, $2, $3, $4, $5, $6, $7 WHERE (SELECT count(*) FROM passkeys WHERE user_id = $2) < $8`,
        [passkey.id, passkey.userId, Buffer.from(passkey.publicKey), passkey.counter, passkey.transports.join(','), passkey.name, passkey.createdAt, maxPerAccount],
      );
      await client.query('COMMIT');
      return rowCount === 1;
    } catch (err) {
      // A client whose transaction cannot be rolled back (a lost connection) is discarded.
      await client.query('ROLLBACK').catch(() => (reusable = false));
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new PasskeyTakenError(passkey.id);
      throw err;
    } finally {
      client.release(!reusable);
    }
  }

  async find(id: string): Promise<(Passkey & { username: string }) | undefined> {
    const { rows } = await this.pool.query<PasskeyRow & { username: string }>(
      'SELECT passkeys.*, users.username FROM passkeys JOIN users ON users.id = passkeys.user_id WHERE passkeys.id = $1',
      [id],
    );
    return rows[0] && { ...toPasskey(rows[0]), username: rows[0].username };
  }

  async listFor(userId: number): Promise<Passkey[]> {
    const { rows } = await this.pool.query<PasskeyRow>('SELECT * FROM passkeys WHERE user_id = $1 ORDER BY created_at, id', [userId]);
    return rows.map(toPasskey);
  }

  async recordUse(id: string, counter: number, usedAt: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE passkeys SET counter = $1, last_used_at = $2 WHERE id = $3 AND (counter < $1 OR (counter = 0 AND $1 = 0))',
      [counter, usedAt, id],
    );
    return rowCount === 1;
  }

  async remove(userId: number, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM passkeys WHERE id = $1 AND user_id = $2', [id, userId]);
    return rowCount === 1;
  }
}

function toPasskey(row: PasskeyRow): Passkey {
  return {
    id: row.id,
    userId: row.user_id,
    publicKey: new Uint8Array(row.public_key),
    counter: Number(row.counter),
    transports: row.transports.split(',').filter(Boolean),
    name: row.name,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? undefined : Number(row.last_used_at),
  };
}
