/**
 * TOTP factors and their recovery codes in SQLite, beside the accounts (migration 008).
 * enable and replaceRecoveryCodes are IMMEDIATE transactions, which take the database's
 * write lock before reading (one writer at a time, even from two processes): the factor
 * row's primary key lets one enrolment of an account in, and its codes go in with it or
 * not at all. A recovery code is spent by one DELETE, so only one use sees its row.
 * Disabling deletes the factor; its codes go with it (ON DELETE CASCADE: openDatabase
 * turns foreign keys on).
 */
import type { TotpFactor, TotpRepository } from '../ports.js';
import type { SqliteDatabase } from './database.js';

interface FactorRow {
  user_id: number;
  secret: string;
  enabled_at: number;
  codes_left: number;
}

export class SqliteTotpRepository implements TotpRepository {
  readonly #find;
  readonly #use;
  readonly #enable;
  readonly #replace;
  readonly #disable;

  constructor(db: SqliteDatabase) {
    this.#find = db.prepare<[number], FactorRow>(
      `SELECT f.*, (SELECT count(*) FROM totp_recovery_codes c WHERE c.user_id = f.user_id) AS codes_left
       FROM totp_factors f WHERE f.user_id = ?`,
    );
    this.#use = db.prepare<[number, string]>('DELETE FROM totp_recovery_codes WHERE user_id = ? AND code_hash = ?');
    const insertFactor = db.prepare<[number, string, number]>('INSERT INTO totp_factors (user_id, secret, enabled_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    const insertCode = db.prepare<[number, string]>('INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES (?, ?)');
    const hasFactor = db.prepare<[number], { one: number }>('SELECT 1 AS one FROM totp_factors WHERE user_id = ?');
    const deleteCodes = db.prepare<[number]>('DELETE FROM totp_recovery_codes WHERE user_id = ?');
    this.#disable = db.prepare<[number]>('DELETE FROM totp_factors WHERE user_id = ?');
    const enable = db.transaction((userId: number, secret: string, hashes: readonly string[], enabledAt: number) => {
      if (insertFactor.run(userId, secret, enabledAt).changes === 0) return false;
      for (const hash of hashes) insertCode.run(userId, hash);
      return true;
    });
    const replace = db.transaction((userId: number, hashes: readonly string[]) => {
      if (!hasFactor.get(userId)) return false;
      deleteCodes.run(userId);
      for (const hash of hashes) insertCode.run(userId, hash);
      return true;
    });
    this.#enable = enable.immediate.bind(enable);
    this.#replace = replace.immediate.bind(replace);
  }

  async enable(userId: number, secret: string, recoveryCodeHashes: readonly string[], enabledAt: number): Promise<boolean> {
    return this.#enable(userId, secret, recoveryCodeHashes, enabledAt);
  }

  async find(userId: number): Promise<TotpFactor | undefined> {
    const row = this.#find.get(userId);
    return row && { userId: row.user_id, secret: row.secret, enabledAt: row.enabled_at, recoveryCodesLeft: row.codes_left };
  }

  async useRecoveryCode(userId: number, codeHash: string): Promise<boolean> {
    return this.#use.run(userId, codeHash).changes === 1;
  }

  async replaceRecoveryCodes(userId: number, codeHashes: readonly string[]): Promise<boolean> {
    return this.#replace(userId, codeHashes);
  }

  async disable(userId: number): Promise<boolean> {
    return this.#disable.run(userId).changes === 1;
  }
}
