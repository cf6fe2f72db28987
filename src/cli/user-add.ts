/**
 * `npm run user:add -- <username>`: creates an account in the configured account store
 * (openStores: DATA_DIR's SQLite file by default).
 *
 * The password comes from standard input when that is not a terminal (so scripts can
 * pipe it: `printf '%s\n' "$PW" | npm run user:add -- alice`), otherwise from a prompt
 * that does not echo, asked twice. The accounts module applies the same rules as sign-up
 * (username, length, strength). Exit codes: 0 created, 1 refused (a rule, a taken name),
 * 2 usage.
 */
import { AccountRuleError, createAccounts } from '../auth/accounts.js';
import { createStrengthEstimator } from '../auth/password-strength.js';
import { loadConfig } from '../config.js';
import { errorMessage } from '../i18n/messages.js';
import { openStores } from '../storage/index.js';
import { UsageError, runOperatorCommand } from './operator.js';

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

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const firstLine = (await readAll(process.stdin)).split(/\r?\n/)[0] ?? '';
    return firstLine;
  }
  const password = await promptHidden('Password: ');
  const again = await promptHidden('Password again: ');
  if (password !== again) throw new UsageError('the two passwords differ');
  return password;
}

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  if (username === undefined || rest.length > 0) throw new UsageError('usage: npm run user:add -- <username>');
  const password = await readPassword();
  const config = loadConfig();
  const stores = await openStores({ dataDir: config.dataDir, ...config.storage, pruneIntervalMs: 0 });
  const strength = createStrengthEstimator();
  try {
    await createAccounts(stores.users, { concurrency: config.accounts.concurrency, strength }).register(username, password);
    console.log(`created user ${username}`);
    return 0;
  } catch (err) {
    if (err instanceof AccountRuleError) {
      console.error(`user:add: ${errorMessage('en', err.rule)}`);
      return 1;
    }
    throw err;
  } finally {
    await stores.close();
    await strength.close();
  }
}

runOperatorCommand('user:add', main);
