/**
 * `npm run chaos`: the chaos run of issue 20 (test/helpers/chaos/): two app instances on
 * Redis and PostgreSQL reached through a fault injector, a seeded mixed load while the
 * stores are cut, hung, frozen and restored, then the invariants checked against the
 * stores and printed as a table. Exits 1 when an invariant was violated.
 *
 *   npm run chaos -- --seed 42 --duration 300 --faults 60 [--people 8]
 *
 * Redis is a redis-server of the run's own; PostgreSQL is TEST_DATABASE_URL (a database
 * of the run's own is made in it and dropped after), the machine's 127.0.0.1:5432 by default.
 */
import { parseArgs } from 'node:util';
import { freshSeed } from '../test/helpers/chaos/random.js';
import { runChaos } from '../test/helpers/chaos/run.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    duration: { type: 'string', default: '120' },
    faults: { type: 'string', default: '24' },
    people: { type: 'string', default: '8' },
  },
});

const number = (name: string, value: string | undefined, min: number): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    console.error(`chaos: --${name} must be an integer of at least ${min}`);
    process.exit(2);
  }
  return parsed;
};

const seed = values.seed === undefined ? freshSeed() : number('seed', values.seed, 0);
const report = await runChaos({
  seed,
  durationMs: number('duration', values.duration, 5) * 1000,
  faults: number('faults', values.faults, 0),
  people: number('people', values.people, 1),
  log: (line) => console.log(line),
});
console.log(`\n${report.table}`);
process.exit(report.violated.length > 0 ? 1 : 0);
