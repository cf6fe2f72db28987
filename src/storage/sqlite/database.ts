/**
 * Opens the embedded SQLite database that users, sessions and spent captcha ids share.
 *
 * WAL lets readers run beside the single writer, and NORMAL synchronous is durable across
 * process crashes (the only loss window is an OS crash), which suits session data.
 * The schema comes from the versioned files in migrations/sqlite/, applied at open by
 * migrate() in the one transaction that also records them, so two processes opening the
 * same file cannot both apply a version.
 *
 * The file holds password hashes, sessions and captcha answers, so it is readable by
 * its owner only: the data folder is created 0700, the database 0600 (SQLite gives its
 * -wal and -shm files the database's mode), and an older install's files are tightened.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrationsDir, readMigrations } from '../migration-files.js';

export type SqliteDatabase = Database.Database;

export function openDatabase(file: string): SqliteDatabase {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // Set, not assumed: it is better-sqlite3's compiled-in default, but off in SQLite's own,
  // and deleting an account (user:delete) relies on ON DELETE CASCADE for what it owned.
  db.pragma('foreign_keys = ON');
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

/** Applies the migrations the database has not had yet, oldest first; returns the versions applied. */
export function migrate(db: SqliteDatabase, dir = migrationsDir('sqlite')): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const applied = db.prepare<[], { version: number }>('SELECT version FROM schema_migrations');
  const record = db.prepare<[number, string, number]>('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  // IMMEDIATE takes the write lock before reading what was applied: a second process waits, then sees it.
  return db
    .transaction(() => {
      const done = new Set(applied.all().map((row) => row.version));
      const pending = readMigrations(dir).filter((migration) => !done.has(migration.version));
      for (const migration of pending) {
        db.exec(migration.sql);
        record.run(migration.version, migration.name, Date.now());
      }
      return pending.map((migration) => migration.version);
    })
    .immediate();
}
