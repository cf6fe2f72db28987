/**
 * `npm run user:passwd -- <username>`: sets a new password for an account (an operator's
 * reset, for a person who lost theirs or an account that may have been taken over) and
 * signs out every session of it. The name is checked first, so an unknown one is refused
 * before the password is asked for; the password is then read as user:add reads it (a
 * prompt without echo, asked twice, or the first line of a pipe), and the accounts module
 * applies the sign-up rules to it. The reset is recorded in the account's activity.
 * Exit codes: 0 changed, 1 refused (no such account, a rule), 2 usage.
 */
import { createActivity } from '../account/activity.js';
import { UsageError, accountNamed, readPassword, runOperatorCommand, withAccounts, withStores } from './operator.js';

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  if (username === undefined || rest.length > 0) throw new UsageError('usage: npm run user:passwd -- <username>');
  return withStores(async (stores, config) => {
    const user = await accountNamed(stores, username);
    const password = await readPassword();
    const signedOut = await withAccounts(stores, config, (accounts) => accounts.resetPassword(user.username, password, stores.sessionIndex));
    await createActivity(stores.activity).record(user.id, { kind: 'password_reset' });
    console.log(`changed the password of ${user.username}; signed out ${signedOut} session(s)`);
    return 0;
  });
}

runOperatorCommand('user:passwd', main);
