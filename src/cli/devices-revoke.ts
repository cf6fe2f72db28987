/**
 * `npm run devices:revoke -- <username>`: forgets every known device of the account (in
 * the configured stores), so none of its browsers is spared by the lockout any more
 * until it signs in again: what an operator does when an account may have been taken
 * over, or a person has lost a device. Exit codes: 0 revoked, 1 no such account, 2 usage.
 */
import { UsageError, accountNamed, runOperatorCommand, withStores } from './operator.js';

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  if (username === undefined || rest.length > 0) throw new UsageError('usage: npm run devices:revoke -- <username>');
  return withStores(async (stores) => {
    const user = await accountNamed(stores, username);
    await stores.deviceTokens.revokeAll(user.id, Date.now());
    console.log(`revoked every known device of ${user.username}`);
    return 0;
  });
}

runOperatorCommand('devices:revoke', main);
