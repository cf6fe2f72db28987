/**
 * What every command shares (the operator's user:* and devices:revoke here, and the
 * captcha research commands in scripts/captcha/): a usage error, how a command ends, and
 * how a new password is read, and for the operator's commands their stores and the
 * account they name. Each prints one line and exits 0 done, 1 refused (the command's own
 * answer, such as no account of that name, or an error it did not expect), 2 usage (with
 * the usage line, when the command has one).
 */
import { createAccounts, type Accounts } from '../auth/accounts.js';
import { createStrengthEstimator } from '../auth/password-strength.js';
import { loadConfig, type Config } from '../config.js';
import { RefusedError } from '../errors.js';
import { errorMessage } from '../i18n/messages.js';
import { openStores, type OpenStores } from '../storage/index.js';
import type { Stores, User } from '../storage/ports.js';

export class UsageError extends Error {}

/** Runs `main` with the command line's arguments and sets the exit code from what it returned or threw. */
export function runOperatorCommand(name: string, main: (args: string[]) => Promise<number>, usage?: string): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const usageLine = err instanceof UsageError && usage !== undefined ? `\n${usage}` : '';
      // A refusal by the account rules says which rule, as the web page would (in English).
      const message = err instanceof RefusedError ? errorMessage('en', err.code) : err instanceof Error ? err.message : String(err);
      console.error(`${name}: ${message}${usageLine}`);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

/** Reads one line from the terminal in raw mode, echoing nothing. */
function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = '';
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(typed);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new UsageError('cancelled'));
          return;
        }
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += char;
      }
    };
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/**
 * A new password: the first line of standard input when that is not a terminal (so
 * scripts can pipe it), otherwise typed twice at a prompt that echoes nothing.
 */
export async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return (await readAll(process.stdin)).split(/\r?\n/)[0] ?? '';
  const password = await promptHidden('Password: ');
  const again = await promptHidden('Password again: ');
  if (password !== again) throw new UsageError('the two passwords differ');
  return password;
}

/** Opens the configured stores (no pruning timer) for one command, and closes them after `use`. */
export async function withStores<T>(use: (stores: OpenStores, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const stores = await openStores({ dataDir: config.dataDir, ...config.storage, pruneIntervalMs: 0 });
  try {
    return await use(stores, config);
  } finally {
    await stores.close();
  }
}

/** The accounts module as the web app has it (the rules, the strength estimator), for a command that sets passwords. */
export async function withAccounts<T>(stores: Stores, config: Config, use: (accounts: Accounts) => Promise<T>): Promise<T> {
  const strength = createStrengthEstimator();
  try {
    return await use(createAccounts(stores.users, { concurrency: config.accounts.concurrency, strength }));
  } finally {
    await strength.close();
  }
}

/** The account of that name (without regard to case); refuses (exit 1) when there is none. */
export async function accountNamed(stores: Stores, username: string): Promise<User> {
  const user = await stores.users.findByUsername(username);
  if (!user) throw new Error(`no account named ${username}`);
  return user;
}
