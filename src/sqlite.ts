/**
 * Opens the embedded SQLite database that users, sessions and spent captcha ids share.
 *
 * WAL lets readers run beside the single writer, and NORMAL synchronous is durable across
 * process crashes (the only loss window is an OS crash), which suits session data.
 * Each store creates its own tables, so this module knows nothing about features.
 *
 * The file holds password hashes, sessions and captcha answers, so it is readable by
 * its owner only: the data folder is created 0700, the database 0600 (SQLite gives its
 * -wal and -shm files the database's mode), and an older install's files are tightened.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
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

const OWNER_ONLY_FOLDER = 0o700;
const OWNER_ONLY_FILE = 0o600;

/** Opens (creating if needed) the app's database inside the data folder, owner-only. */
export function openDataDirDatabase(dataDir: string): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true, mode: OWNER_ONLY_FOLDER });
  const file = path.join(dataDir, DATABASE_FILE);
  closeSync(openSync(file, 'a', OWNER_ONLY_FILE));
  for (const name of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(name, OWNER_ONLY_FILE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return openDatabase(file);
}
