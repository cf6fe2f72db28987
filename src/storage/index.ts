/**
 * openStores(options): the one place that picks the storage back-ends and wires them.
 * The server, the CLI, the tests and the scripts all get their stores here.
 *
 * It also runs the one pruning loop: every `pruneIntervalMs` each back-end deletes what
 * has expired in batches (yielding between them), so every growing table stays the size
 * of what is live.
 */
import type { Stores } from './ports.js';
import { openSqliteStores, type SqliteStores } from './sqlite/index.js';

export interface StorageOptions {
  /** Folder of the SQLite file. */
  dataDir: string;
  clock?: () => number;
  /** How often expired rows are pruned, in ms; 0 leaves it to explicit prune() calls. */
  pruneIntervalMs?: number;
  /** Told about a failed pruning run (the next one tries again). */
  onPruneError?: (err: unknown) => void;
}

export const PRUNE_INTERVAL_MS = 5 * 60_000;

export type OpenStores = Stores & Pick<SqliteStores, 'db'>;

export async function openStores(options: StorageOptions): Promise<OpenStores> {
  const stores = openSqliteStores(options.dataDir, options.clock ?? Date.now);
  const stopPruning = startPruning(stores.prune, options.pruneIntervalMs ?? PRUNE_INTERVAL_MS, options.onPruneError);
  return {
    ...stores,
    close: async () => {
      stopPruning();
      await stores.close();
    },
  };
}

function startPruning(prune: () => Promise<number>, intervalMs: number, onError: (err: unknown) => void = () => {}): () => void {
  if (intervalMs <= 0) return () => {};
  let running = false;
  let stopped = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      while (!stopped && (await prune()) > 0) await new Promise((resolve) => setImmediate(resolve));
    } catch (err) {
      onError(err);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
