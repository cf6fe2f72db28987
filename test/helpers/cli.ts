/**
 * Runs an operator command (src/cli/<file>.ts) as the operator would, in a process of its
 * own, on the stores its environment names; `terminal` gives it a terminal (util-linux's
 * `script`, which passes `input` through it as typing), for the commands that ask.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT_DIR } from '../../src/paths.js';
import type { StorageConfig } from '../../src/storage/index.js';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  dataDir: string;
  storage?: Partial<StorageConfig>;
  input?: string;
  terminal?: boolean;
}

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

export function runCli(file: string, args: string[], { dataDir, storage = {}, input = '', terminal = false }: CliOptions): CliRun {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
  for (const name of ['REDIS_URL', 'REDIS_KEY_PREFIX', 'DATABASE_URL']) delete env[name];
  if (storage.redisUrl !== undefined) env.REDIS_URL = storage.redisUrl;
  if (storage.redisKeyPrefix !== undefined) env.REDIS_KEY_PREFIX = storage.redisKeyPrefix;
  if (storage.databaseUrl !== undefined) env.DATABASE_URL = storage.databaseUrl;
  const command = [process.execPath, '--import', 'tsx', path.join(ROOT_DIR, 'src/cli', `${file}.ts`), ...args];
  const [program, ...argv] = terminal ? ['script', '-qec', command.map(quote).join(' '), '/dev/null'] : command;
  const run = spawnSync(program as string, argv, { input, env, encoding: 'utf8', cwd: ROOT_DIR });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
