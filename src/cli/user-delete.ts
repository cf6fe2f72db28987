/**
 * `npm run user:delete -- <username> [--yes]`: deletes the account and everything of it.
 * At a terminal it asks for the name to be typed again; `--yes` skips that (scripts),
 * and without a terminal it is required, so a pipe cannot delete by accident.
 *
 * The account is locked first, so no sign-in can start while it goes. Then what is kept
 * under its id in other stores goes through their ports (its sessions, signed out
 * everywhere by the sessions module; known devices; lockout counts),
 * and last the account itself, which takes with it, in the database, whatever lives
 * beside it (passkeys, TOTP factors and recovery codes, security events: ON DELETE CASCADE). A failure part way leaves a
 * locked account that the same command, run again, finishes deleting; the id is never
 * given to another account (src/storage/ports.ts), so nothing left under it can reach one.
 * Exit codes: 0 deleted, 1 refused (no such account, the name typed did not match), 2 usage.
 */
import { createInterface } from 'node:readline/promises';
import { createAccountSessions } from '../account/sessions.js';
import { forgetCounts } from '../auth/lockout.js';
import { UsageError, accountNamed, runOperatorCommand, withStores } from './operator.js';

const USAGE = 'usage: npm run user:delete -- <username> [--yes]';

async function confirmed(username: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const typed = await prompt.question(`This deletes ${username} with its passkeys, two-step verification, activity, sessions and known devices. Type the name again to go on: `);
    return typed.trim().toLowerCase() === username.toLowerCase();
  } finally {
    prompt.close();
  }
}

async function main(args: string[]): Promise<number> {
  const yes = args.includes('--yes');
  const names = args.filter((arg) => arg !== '--yes');
  const [username, ...rest] = names;
  if (username === undefined || rest.length > 0 || username.startsWith('-')) throw new UsageError(USAGE);
  if (!yes && !process.stdin.isTTY) throw new UsageError(`not at a terminal, so nobody can confirm: add --yes (${USAGE})`);
  return withStores(async (stores, config) => {
    const user = await accountNamed(stores, username);
    if (!yes && !(await confirmed(user.username))) {
      console.error('user:delete: the name typed did not match; nothing was deleted');
      return 1;
    }
    await stores.users.setDisabled(user.id, user.disabledAt ?? Date.now());
    await createAccountSessions(stores.sessionIndex, config.sessionTimeouts).revokeAll(user.id);
    await stores.deviceTokens.revokeAll(user.id, Date.now());
    await forgetCounts(stores.failedLogins, user);
    await stores.users.delete(user.id);
    console.log(`deleted ${user.username}`);
    return 0;
  });
}

runOperatorCommand('user:delete', main);
