/**
 * `npm run devices:revoke -- <username>`: forgets every known device of the account (in
 * the configured stores), so none of its browsers is spared by the lockout any more
 * until it signs in again: what an operator does when an account may have been taken
 * over, or a person has lost a device. Exit codes: 0 revoked, 1 no such account, 2 usage.
 */
import { loadConfig } from '../config.js';
import { openStores } from '../storage/index.js';
import { UsageError, runOperatorCommand } from './operator.js';

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  if (username === undefined || rest.length > 0) throw new UsageError('usage: npm run devices:revoke -- <username>');
  const config = loadConfig();
  const stores = await openStores({ dataDir: config.dataDir, ...config.storage, pruneIntervalMs: 0 });
  try {
    const user = await stores.users.findByUsername(username);
    if (!user) {
      console.error(`devices:revoke: no account named ${username}`);
      return 1;
    }
    await stores.deviceTokens.revokeAll(user.id, Date.now());
    console.log(`revoked every known device of ${user.username}`);
    return 0;
  } finally {
    await stores.close();
  }
}

runOperatorCommand('devices:revoke', main);
