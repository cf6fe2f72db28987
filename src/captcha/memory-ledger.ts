/**
 * A spent-challenge ledger in this process's memory, for a site that runs one process
 * (the mount example in docs/captcha-mount.md). Several processes or machines need a
 * shared ledger (the app's SQLite, Redis or PostgreSQL ones), or a challenge could be
 * spent once in each. Spent ids are forgotten once expired, swept whenever the ledger has
 * doubled since the last sweep, so it holds about the ids of the last TTL and no more.
 */
import type { SpentChallengeLedger } from '../storage/ports.js';

const FIRST_SWEEP = 1024;

export interface MemoryLedger extends SpentChallengeLedger {
  /** Ids held now, expired ones not yet swept included. */
  readonly size: number;
}

export function memoryLedger(clock: () => number = Date.now): MemoryLedger {
  const spentUntil = new Map<string, number>();
  let sweepAt = FIRST_SWEEP;
  return {
    async claim(id, expiresAt) {
      const now = clock();
      if (spentUntil.size >= sweepAt) {
        for (const [spent, until] of spentUntil) if (until <= now) spentUntil.delete(spent);
        sweepAt = Math.max(FIRST_SWEEP, 2 * spentUntil.size);
      }
      if ((spentUntil.get(id) ?? -Infinity) > now) return false;
      spentUntil.set(id, expiresAt);
      return true;
    },
    get size() {
      return spentUntil.size;
    },
  };
}
