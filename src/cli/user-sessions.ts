/**
 * `npm run user:sessions -- <username> [--revoke]`: the account's live sessions, one line
 * each (handle, signed in, last seen, network, browser and system; times in UTC), or with
 * --revoke signs every one of them out: what an operator does when an account may have
 * been taken over. Sessions are live as the web page counts them (the session timeouts
 * from the environment); a --revoke that signed any out is recorded in the account's activity. Exit codes: 0 done, 1 no such account, 2 usage.
 */
import { createActivity } from '../account/activity.js';
import { createAccountSessions, type SessionView } from '../account/sessions.js';
import { UsageError, accountNamed, runOperatorCommand, withStores } from './operator.js';

const USAGE = 'usage: npm run user:sessions -- <username> [--revoke]';

/** One line of the listing, tab-separated so that scripts can cut it. */
function lineOf(session: SessionView): string {
  const { browser = 'unknown browser', os = 'unknown system', network } = session.client;
  return [session.id, new Date(session.signedInAt).toISOString(), new Date(session.lastSeenAt).toISOString(), network, `${browser} on ${os}`].join('\t');
}

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  const revoke = rest.length === 1 && rest[0] === '--revoke';
  if (username === undefined || username.startsWith('-') || (rest.length > 0 && !revoke)) throw new UsageError(USAGE);
  return withStores(async (stores, config) => {
    const user = await accountNamed(stores, username);
    const sessions = createAccountSessions(stores.sessionIndex, config.sessionTimeouts);
    if (revoke) {
      const signedOut = await sessions.revokeAll(user.id);
      if (signedOut > 0) await createActivity(stores.activity).record(user.id, { kind: 'sessions_revoked', detail: String(signedOut) });
      console.log(`signed out ${signedOut} session(s) of ${user.username}`);
      return 0;
    }
    for (const session of await sessions.list(user.id, undefined, Date.now())) console.log(lineOf(session));
    return 0;
  });
}

runOperatorCommand('user:sessions', main);
