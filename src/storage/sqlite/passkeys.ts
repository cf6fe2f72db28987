/**
 * Passkeys in SQLite, beside the accounts. The credential id is the primary key, so a
 * credential cannot be stored twice; add is one INSERT … SELECT that counts the
 * account's passkeys, and recordUse one conditional UPDATE: each takes the database's
 * write lock for the whole statement (one writer at a time, even from two processes), so
 * the limit holds under concurrent adds and of two sign-ins reporting the same counter
 * only one writes.
 */
import { PasskeyTakenError, type NewPasskey, type Passkey, type PasskeyRepository } from '../ports.js';
import type { SqliteDatabase } from './database.js';

interface PasskeyRow {
  id: string;
  user_id: number;
  public_key: Buffer;
  counter: number;
  transports: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

export class SqlitePasskeyRepository implements PasskeyRepository {
  readonly #insert;
  readonly #find;
  readonly #list;
  readonly #use;
  readonly #remove;

  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare<[string, number, Buffer, number, string, string, number, number, number]>(
      `INSERT INTO passkeys (id, user_id, public_key, counter, transports, name, created_at)
       SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM passkeys WHERE user_id = ?) < ?`,
    );
    this.#find = db.prepare<[string], PasskeyRow & { username: string }>(
      'SELECT passkeys.*, users.username FROM passkeys JOIN users ON users.id = passkeys.user_id WHERE passkeys.id = ?',
    );
    this.#list = db.prepare<[number], PasskeyRow>('SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at, id');
    this.#use = db.prepare<[number, number, string, number, number]>(
      'UPDATE passkeys SET counter = ?, last_used_at = ? WHERE id = ? AND (counter < ? OR (counter = 0 AND ? = 0))',
    );
    this.#remove = db.prepare<[string, number]>('DELETE FROM passkeys WHERE id = ? AND user_id = ?');
  }

  async add(passkey: NewPasskey, maxPerAccount: number): Promise<boolean> {
    try {
      const { changes } = this.#insert.run(
        passkey.id,
        passkey.userId,
        Buffer.from(passkey.publicKey),
        passkey.counter,
        passkey.transports.join(','),
        passkey.name,
        passkey.createdAt,
        passkey.userId,
        maxPerAccount,
      );
      return changes === 1;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new PasskeyTakenError(passkey.id);
      throw err;
    }
  }

  async find(id: string): Promise<(Passkey & { username: string }) | undefined> {
    const row = this.#find.get(id);
    return row && { ...toPasskey(row), username: row.username };
  }

  async listFor(userId: number): Promise<Passkey[]> {
    return this.#list.all(userId).map(toPasskey);
  }

  async recordUse(id: string, counter: number, usedAt: number): Promise<boolean> {
    return this.#use.run(counter, usedAt, id, counter, counter).changes === 1;
  }

  async remove(userId: number, id: string): Promise<boolean> {
    return this.#remove.run(id, userId).changes === 1;
  }
}

function toPasskey(row: PasskeyRow): Passkey {
  return {
    id: row.id,
    userId: row.user_id,
    publicKey: new Uint8Array(row.public_key),
    counter: row.counter,
    transports: row.transports.split(',').filter(Boolean),
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at ?? undefined,
  };
}
