/**
 * `npm run user:add -- <username>`: creates an account in the configured account store
 * (openStores: DATA_DIR's SQLite file by default).
 *
 * The password comes from standard input when that is not a terminal (so scripts can
 * pipe it: `printf '%s\n' "$PW" | npm run user:add -- alice`), otherwise from a prompt
 * that does not echo, asked twice. The accounts module applies the same rules as sign-up
 * (username, length, strength). Exit codes: 0 created, 1 refused (a rule, a taken name),
 * 2 usage.
 */
import { UsageError, readPassword, runOperatorCommand, withAccounts, withStores } from './operator.js';

async function main(args: string[]): Promise<number> {
  const [username, ...rest] = args;
  if (username === undefined || rest.length > 0) throw new UsageError('usage: npm run user:add -- <username>');
  const password = await readPassword();
  return withStores((stores, config) =>
    withAccounts(stores, config, async (accounts) => {
      await accounts.register(username, password);
      console.log(`created user ${username}`);
      return 0;
    }),
  );
}

runOperatorCommand('user:add', main);
