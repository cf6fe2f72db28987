/**
 * `npm run user:unlock -- <username>`: lifts an operator's lock (user:lock) and clears the
 * account's lockout counts (its untrusted budget, every network's and every known
 * device's: src/auth/lockout.ts), so it can sign in at once from anywhere; also what an
 * operator does for a person locked out by failed guesses. Recorded in the account's
 * activity when it lifted a lock. Exit codes: 0 unlocked, 1 no such account, 2 usage.
 */
import { createActivity } from '../account/activity.js';
import { forgetCounts } from '../auth/lockout.js';
import { UsageError, accountNamed, runOperatorCommand, withStores } from './operator.js';

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  if (username === undefined || rest.length > 0) throw new UsageError('usage: npm run user:unlock -- <username>');
  return withStores(async (stores) => {
    const user = await accountNamed(stores, username);
    await forgetCounts(stores.failedLogins, user);
    if (user.disabledAt === undefined) {
      console.log(`${user.username} was not locked; its lockout counts were cleared`);
      return 0;
    }
    await stores.users.setDisabled(user.id, undefined);
    await createActivity(stores.activity).record(user.id, { kind: 'account_unlocked' });
    console.log(`unlocked ${user.username}, and cleared its lockout counts`);
    return 0;
  });
}

runOperatorCommand('user:unlock', main);
