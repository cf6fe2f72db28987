/**
 * `npm run user:list`: one line per account of the configured account store, oldest
 * first: name, when it was made (UTC), whether an operator locked it, whether two-step
 * verification (TOTP) is on, and how many passkeys it has. Read page by page, so a large store is never held in memory.
 * Exit codes: 0 listed (also when there is no account), 2 usage.
 */
import type { AccountSummary } from '../storage/ports.js';
import { UsageError, runOperatorCommand, withStores } from './operator.js';

const PAGE = 500;
const HEADER = ['NAME', 'CREATED (UTC)', 'LOCKED', 'TOTP', 'PASSKEYS'];
/** Wide enough for the longest username (32) and a minute in ISO form. */
const WIDTHS = [33, 17, 7, 5];

const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function line(cells: string[]): string {
  return cells.map((cell, i) => cell.padEnd(WIDTHS[i] ?? 0)).join(' ').trimEnd();
}

function row(account: AccountSummary): string {
  return line([account.username, minute(account.createdAt), account.disabledAt === undefined ? 'no' : 'yes', account.totp ? 'on' : 'off', String(account.passkeys)]);
}

async function main(args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError('usage: npm run user:list');
  return withStores(async (stores) => {
    console.log(line(HEADER));
    for (let afterId = 0; ; ) {
      const page = await stores.users.list(afterId, PAGE);
      for (const account of page) console.log(row(account));
      const last = page.at(-1);
      if (!last || page.length < PAGE) return 0;
      afterId = last.id;
    }
  });
}

runOperatorCommand('user:list', main);
