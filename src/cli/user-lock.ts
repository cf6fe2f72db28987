/**
 * `npm run user:lock -- <username>`: locks the account, so it can no longer sign in (by
 * password, passkey or code; the person is told once they prove who they are: see
 * src/auth/accounts.ts), and records it in the account's activity. What an operator does
 * when an account is misused or taken over; `user:unlock` undoes it.
 * Exit codes: 0 locked (or was already), 1 no such account, 2 usage.
 */
import { createActivity } from '../account/activity.js';
import { UsageError, accountNamed, runOperatorCommand, withStores } from './operator.js';

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  if (username === undefined || rest.length > 0) throw new UsageError('usage: npm run user:lock -- <username>');
  return withStores(async (stores) => {
    const user = await accountNamed(stores, username);
    if (user.disabledAt !== undefined) {
      console.log(`${user.username} was already locked, since ${new Date(user.disabledAt).toISOString()}`);
      return 0;
    }
    await stores.users.setDisabled(user.id, Date.now());
    await createActivity(stores.activity).record(user.id, { kind: 'account_locked' });
    console.log(`locked ${user.username}`);
    return 0;
  });
}

runOperatorCommand('user:lock', main);
