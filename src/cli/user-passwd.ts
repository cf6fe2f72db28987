/**
 * `npm run user:passwd -- <username>`: sets a new password for an account (an operator's
 * reset, for a person who lost theirs or an account that may have been taken over) and
 * signs out every session of it. The name is checked first, so an unknown one is refused
 * before the password is asked for; the password is then read as user:add reads it (a
 * prompt without echo, asked twice, or the first line of a pipe), and the accounts module
 * applies the sign-up rules to it. The reset is recorded in the account's activity. Exit codes: 0 changed, 1 refused (no such account, a
 * rule), 2 usage.
 */
import { createActivity } from '../account/activity.js';
import { AccountRuleError, createAccounts } from '../auth/accounts.js';
import { createStrengthEstimator } from '../auth/password-strength.js';
import { loadConfig } from '../config.js';
import { errorMessage } from '../i18n/messages.js';
import { openStores } from '../storage/index.js';
import { UsageError, readPassword, runOperatorCommand } from './operator.js';

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  if (username === undefined || rest.length > 0) throw new UsageError('usage: npm run user:passwd -- <username>');
  const config = loadConfig();
  const stores = await openStores({ dataDir: config.dataDir, ...config.storage, pruneIntervalMs: 0 });
  const strength = createStrengthEstimator();
  try {
    const user = await stores.users.findByUsername(username);
    if (!user) {
      console.error(`user:passwd: no account named ${username}`);
      return 1;
    }
    const password = await readPassword();
    const accounts = createAccounts(stores.users, { concurrency: config.accounts.concurrency, strength });
    const signedOut = await accounts.resetPassword(user.username, password, stores.sessionIndex);
    await createActivity(stores.activity).record(user.id, { kind: 'password_reset' });
    console.log(`changed the password of ${user.username}; signed out ${signedOut} session(s)`);
    return 0;
  } catch (err) {
    if (err instanceof AccountRuleError) {
      console.error(`user:passwd: ${errorMessage('en', err.rule)}`);
      return 1;
    }
    throw err;
  } finally {
    await stores.close();
    await strength.close();
  }
}

runOperatorCommand('user:passwd', main);
