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
import { UsageError, readPassword, runOperatorCommand } from './operator.js';

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
