/**
 * Opens the embedded SQLite database that users, sessions and spent captcha ids share.
 *
 * WAL lets readers run beside the single writer, and NORMAL synchronous is durable across
 * process crashes (the only loss window is an OS crash), which suits session data.
 * Each store creates its own tables, so this module knows nothing about features.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

export function openDatabase(file: string): SqliteDatabase {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

export const DATABASE_FILE = 'captcha-login.sqlite';

/** Opens (creating if needed) the app's database inside the data folder. */
export function openDataDirDatabase(dataDir: string): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  return openDatabase(path.join(dataDir, DATABASE_FILE));
}
