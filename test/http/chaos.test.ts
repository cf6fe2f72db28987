/**
 * The chaos run of issue 20, shortened (npm run chaos is the long one): two instances on
 * Redis and PostgreSQL behind the fault injector, a mixed load from a few people while
 * one fault of each kind comes and goes, then every invariant must have held. A failure
 * names the invariant, its count and examples, and prints the whole table with its seed
 * (CHAOS_SEED repeats or varies the plan).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos } from '../helpers/chaos/run.js';

const seed = Number(process.env.CHAOS_SEED ?? 20);

test(`chaos (seed ${seed}): faults of every kind under a mixed load on two instances; every invariant holds`, { timeout: 90_000 }, async () => {
  const report = await runChaos({ seed, durationMs: 24_000, faults: 6, people: 5 });
  assert.ok(report.faults >= 5, `at least five faults were injected (${report.faults})\n${report.table}`);
  const broken = report.violated.map((invariant) => `${invariant.name}: ${invariant.violations} of ${invariant.checked} (${invariant.examples.join('; ')})`);
  assert.deepEqual(broken, [], `invariants violated:\n${broken.join('\n')}\n\n${report.table}`);
});
