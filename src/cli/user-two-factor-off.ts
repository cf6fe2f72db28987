/**
 * `npm run user:two-factor-off -- <username>`: turns off the account's two-step
 * verification (its TOTP secret and recovery codes go) and records it in the account's
 * activity. What an operator does for someone who lost both their authenticator and
 * their recovery codes, or after a takeover in which the thief set up a factor of their
 * own (then with `user:passwd`, which signs the account out everywhere). The person can
 * set it up again from /account/two-factor. Exit codes: 0 turned off (or was off), 1 no
 * such account, 2 usage.
 */
import { createActivity } from '../account/activity.js';
import { UsageError, accountNamed, runOperatorCommand, withStores } from './operator.js';

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  if (username === undefined || rest.length > 0) throw new UsageError('usage: npm run user:two-factor-off -- <username>');
  return withStores(async (stores) => {
    const user = await accountNamed(stores, username);
    if (!(await stores.totp.disable(user.id))) {
      console.log(`${user.username} has no two-step verification`);
      return 0;
    }
    await createActivity(stores.activity).record(user.id, { kind: 'totp_disabled' });
    console.log(`turned off two-step verification of ${user.username}`);
    return 0;
  });
}

runOperatorCommand('user:two-factor-off', main);
