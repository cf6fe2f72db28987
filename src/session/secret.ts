/**
 * The secret that signs session cookies.
 *
 * Production must provide SESSION_SECRET (config.ts refuses to start without it). In
 * development a random secret is generated once and kept in the data folder, so that
 * restarts keep people signed in without anyone committing a secret.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DEV_SECRET_FILE = 'session-secret';

export function loadOrCreateDevSecret(dataDir: string): string {
  const file = path.join(dataDir, DEV_SECRET_FILE);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32).toString('base64url');
  // With Redis and PostgreSQL nothing else may have made the data folder (SQLite makes it otherwise).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
