/**
 * `npm run user:lock -- <username>`: locks the account, so it can no longer sign in (by
 * password, passkey or code; the person is told once they prove who they are: see
 * src/auth/accounts.ts), records it in the account's activity, and signs it out
 * everywhere (the sessions module), so the lock holds at once and not at the next
 * sign-in. What an operator does when an account is misused or taken over;
 * `user:unlock` undoes it. Run on a locked account, it signs it out everywhere again.
 * Exit codes: 0 locked (or was already), 1 no such account, 2 usage.
 */
import { createActivity } from '../account/activity.js';
import { createAccountSessions } from '../account/sessions.js';
import { UsageError, accountNamed, runOperatorCommand, withStores } from './operator.js';

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  if (username === undefined || rest.length > 0) throw new UsageError('usage: npm run user:lock -- <username>');
  return withStores(async (stores, config) => {
    const user = await accountNamed(stores, username);
    // Locked first: a sign-in under way reads the account again after saving its session
    // (src/auth/complete-sign-in.ts), so it sees the lock or is signed out below.
    if (user.disabledAt === undefined) {
      await stores.users.setDisabled(user.id, Date.now());
      await createActivity(stores.activity).record(user.id, { kind: 'account_locked' });
    }
    const signedOut = await createAccountSessions(stores.sessionIndex, config.sessionTimeouts).revokeAll(user.id);
    const locked = user.disabledAt === undefined ? `locked ${user.username}` : `${user.username} was already locked, since ${new Date(user.disabledAt).toISOString()}`;
    console.log(`${locked}; signed out ${signedOut} session(s)`);
    return 0;
  });
}

runOperatorCommand('user:lock', main);
