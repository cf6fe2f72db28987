/**
 * Passkeys in PostgreSQL, beside the accounts (migrations/postgres/002). The credential
 * id is the primary key, so a credential cannot be stored twice; recordUse is one
 * conditional UPDATE, so of two sign-ins reporting the same counter on any number of
 * instances only one writes.
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

  async add(passkey: NewPasskey): Promise<void> {
    try {
      await this.pool.query(
        'INSERT INTO passkeys (id, user_id, public_key, counter, transports, name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [passkey.id, passkey.userId, Buffer.from(passkey.publicKey), passkey.counter, passkey.transports.join(','), passkey.name, passkey.createdAt],
      );
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new PasskeyTakenError(passkey.id);
      throw err;
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
