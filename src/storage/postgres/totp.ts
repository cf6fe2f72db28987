/**
 * TOTP factors and their recovery codes in PostgreSQL, beside the accounts (migration
 * 004). enable inserts the factor and its codes in one statement: the factor's primary
 * key lets one enrolment of an account in (a racing insert waits for the first, then
 * does nothing) and the codes go in with it or not at all. replaceRecoveryCodes runs in a
 * transaction holding the factor's row lock, so it cannot interleave with a disable.
 * A recovery code is spent by one DELETE, so of concurrent uses on any instances only one
 * sees its row. Disabling deletes the factor; its codes go with it (ON DELETE CASCADE).
 */
import type { TotpFactor, TotpRepository } from '../ports.js';
import type { PgPool } from './pool.js';

interface FactorRow {
  user_id: number;
  secret: string;
  /** BIGINT: pg returns them as strings. */
  enabled_at: string;
  codes_left: string;
}

export class PostgresTotpRepository implements TotpRepository {
  constructor(private readonly pool: PgPool) {}

  async enable(userId: number, secret: string, recoveryCodeHashes: readonly string[], enabledAt: number): Promise<boolean> {
    const { rows } = await this.pool.query<{ enabled: boolean }>(
      `WITH factor AS (
         INSERT INTO totp_factors (user_id, secret, enabled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING user_id
       ), codes AS (
         INSERT INTO totp_recovery_codes (user_id, code_hash) SELECT factor.user_id, hash FROM factor, unnest($4::text[]) AS hash
       )
       SELECT EXISTS (SELECT 1 FROM factor) AS enabled`,
      [userId, secret, enabledAt, recoveryCodeHashes],
    );
    return rows[0]?.enabled === true;
  }

  async find(userId: number): Promise<TotpFactor | undefined> {
    const { rows } = await this.pool.query<FactorRow>(
      `SELECT f.*, (SELECT count(*) FROM totp_recovery_codes c WHERE c.user_id = f.user_id) AS codes_left
       FROM totp_factors f WHERE f.user_id = $1`,
      [userId],
    );
    const row = rows[0];
    return row && { userId: row.user_id, secret: row.secret, enabledAt: Number(row.enabled_at), recoveryCodesLeft: Number(row.codes_left) };
  }

  async useRecoveryCode(userId: number, codeHash: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM totp_recovery_codes WHERE user_id = $1 AND code_hash = $2', [userId, codeHash]);
    return rowCount === 1;
  }

  async replaceRecoveryCodes(userId: number, codeHashes: readonly string[]): Promise<boolean> {
    const client = await this.pool.connect();
    let reusable = true;
    try {
      await client.query('BEGIN');
      const { rowCount } = await client.query('SELECT 1 FROM totp_factors WHERE user_id = $1 FOR UPDATE', [userId]);
      if (rowCount === 1) {
        await client.query('DELETE FROM totp_recovery_codes WHERE user_id = $1', [userId]);
        await client.query('INSERT INTO totp_recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])', [userId, codeHashes]);
      }
      await client.query('COMMIT');
      return rowCount === 1;
    } catch (err) {
      // A client whose transaction cannot be rolled back (a lost connection) is discarded.
      await client.query('ROLLBACK').catch(() => (reusable = false));
      throw err;
    } finally {
      client.release(!reusable);
    }
  }

  async disable(userId: number): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM totp_factors WHERE user_id = $1', [userId]);
    return rowCount === 1;
  }
}
