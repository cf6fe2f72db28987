/**
 * Versioned schema migrations: `migrations/<back-end>/NNN_name.sql`, applied in order of
 * NNN, each once. A back-end records what it applied in its own schema_migrations table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT_DIR } from '../paths.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE_PATTERN = /^(\d+)_([a-z0-9_-]+)\.sql$/;

export function migrationsDir(backEnd: string): string {
  return path.join(ROOT_DIR, 'migrations', backEnd);
}

/** The back-end's migrations, oldest first. */
export function readMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = FILE_PATTERN.exec(file);
      if (!match) throw new Error(`migration file ${file} is not named NNN_name.sql`);
      return { version: Number(match[1]), name: match[2] ?? '', sql: readFileSync(path.join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (index > 0 && migrations[index - 1]?.version === migration.version) throw new Error(`two migrations have version ${migration.version} in ${dir}`);
  });
  return migrations;
}
