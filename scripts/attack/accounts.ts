/**
 * The victims and the bot's list: N accounts with real, distinct passwords hashed at the
 * server's production cost (the checkout's own hashPassword with its defaults, written
 * through its own openStores, so a guess costs what it costs in production), and a list
 * of P credential pairs of which a set share are right; the rest are wrong passwords for
 * existing names and, one in ten, names that do not exist. Accounts 0 and 1 belong to
 * the two people; the bot's list guesses at them too (as a campaign would) but never
 * holds their right passwords.
 */
import { randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import type { hashPassword as HashPassword } from '../../src/auth/passwords.js';
import type { openStores as OpenStores, StorageConfig } from '../../src/storage/index.js';

export interface Account {
  username: string;
  password: string;
}

export interface Pair extends Account {
  right: boolean;
}

/** Hashes at once: the machine's two cores (the server is not running yet). */
const HASHING_CONCURRENCY = 2;
const UNKNOWN_NAME_SHARE = 0.1;

const newPassword = (): string => `${randomBytes(9).toString('base64url')}-${randomBytes(6).toString('base64url')}`;

/** Names unique to the run (shared PostgreSQL databases may hold earlier runs' accounts). */
export function makeAccounts(count: number, runId: string): Account[] {
  return Array.from({ length: count }, (_, i) => ({ username: `sim${runId}u${String(i).padStart(4, '0')}`, password: newPassword() }));
}

export async function storeAccounts(serverDir: string, dataDir: string, storage: Partial<StorageConfig>, accounts: Account[]): Promise<void> {
  const fromDist = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(serverDir, 'dist', file)).href)) as T;
  const { openStores } = await fromDist<{ openStores: typeof OpenStores }>('storage/index.js');
  const { hashPassword } = await fromDist<{ hashPassword: typeof HashPassword }>('auth/passwords.js');
  const stores = await openStores({ dataDir, ...storage, pruneIntervalMs: 0 });
  try {
    const limit = pLimit(HASHING_CONCURRENCY);
    await Promise.all(accounts.map((account) => limit(async () => stores.users.create(account.username, await hashPassword(account.password)))));
  } finally {
    await stores.close();
  }
}

/** The bot's list, shuffled; `rightShare` of it are right pairs of accounts 2.. (each at most once). */
export function makePairs(accounts: Account[], count: number, rightShare: number, runId: string): Pair[] {
  const targets = accounts.slice(2);
  const rightCount = Math.min(Math.round(count * rightShare), targets.length);
  const shuffledTargets = shuffle([...targets]);
  const pairs: Pair[] = shuffledTargets.slice(0, rightCount).map((account) => ({ ...account, right: true }));
  while (pairs.length < count) {
    if (Math.random() < UNKNOWN_NAME_SHARE) {
      pairs.push({ username: `sim${runId}x${randomInt(1_000_000)}`, password: newPassword(), right: false });
    } else {
      const account = accounts[randomInt(accounts.length)] as Account;
      pairs.push({ username: account.username, password: newPassword(), right: false });
    }
  }
  return shuffle(pairs);
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
