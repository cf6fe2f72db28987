/**
 * The attack-mode detector over real counters (the SQLite store) and a manual clock:
 * when it engages, how its level moves, when it relaxes, what it logs, and what a store
 * failure does. test/http/two-instances.test.ts checks it over Redis across instances.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { ATTACK_MODE_DEFAULTS, ATTACK_WINDOW_MS, REFRESH_MS, RETRY_MS, createAttackMode, type AttackModeOptions } from '../../src/attack/attack-mode.js';
import { createLogger } from '../../src/logger.js';
import { openStores } from '../../src/storage/index.js';
import { ATTACK_BUCKET_MS, type AttackSignalStore } from '../../src/storage/ports.js';
import { tempDir } from '../storage/contract.js';

const options: AttackModeOptions = { ...ATTACK_MODE_DEFAULTS, minFailures: 10, failureShare: 0.5, quietMs: 180_000, maxLevel: 3 };

async function detector(t: TestContext, wrap: (store: AttackSignalStore) => AttackSignalStore = (store) => store) {
  const stores = await openStores({ dataDir: tempDir(t, 'attack-'), pruneIntervalMs: 0 });
  t.after(() => stores.close());
  // At the start of an aligned 30-second window, so the test knows which window each count is in.
  let now = Math.ceil(Date.now() / ATTACK_WINDOW_MS) * ATTACK_WINDOW_MS;
  const lines: Array<{ msg: string; level?: number; failures?: number }> = [];
  const logger = createLogger('info', new Writable({ write: (chunk, _e, done) => done(void lines.push(JSON.parse(String(chunk)))) }));
  const store = wrap(stores.attackSignals);
  const mode = createAttackMode({ store, options, clock: () => now, logger });
  const record = async (failures: number, successes = 0) => {
    for (let i = 0; i < failures; i += 1) await mode.recordUnknownOutcome(true);
    for (let i = 0; i < successes; i += 1) await mode.recordUnknownOutcome(false);
  };
  /** Moves the clock and reads the state (past the cache). */
  const after = async (ms: number) => {
    now += ms;
    return mode.state();
  };
  const messages = () => lines.map((line) => line.msg).filter((msg) => msg.startsWith('attack'));
  return { mode, record, after, lines, messages, advance: (ms: number) => (now += ms) };
}

test('a campaign turns attack mode on within seconds, and the line says so', async (t) => {
  const { mode, record, after, lines } = await detector(t);
  assert.deepEqual(await mode.state(), { on: false, level: 0 });
  await record(9);
  assert.deepEqual(await after(REFRESH_MS), { on: false, level: 0 }, 'one failure short');
  await record(1);
  assert.deepEqual(await after(REFRESH_MS), { on: true, level: 1 });
  const on = lines.find((line) => line.msg === 'attack mode on');
  assert.deepEqual([on?.level, on?.failures], [1, 10]);
});

test("people's failures among their successes do not turn it on", async (t) => {
  const { record, after } = await detector(t);
  await record(10, 11);
  assert.equal((await after(REFRESH_MS)).on, false, 'below the failure share');
});

test('a campaign that mixes in successes cannot hide: anyShareFailures failures turn it on whatever the share, and successes do not lower the level', async (t) => {
  const { record, after } = await detector(t);
  await record(49, 60);
  assert.equal((await after(REFRESH_MS)).on, false, 'under the share and under anyShareFailures');
  await record(1);
  assert.deepEqual(await after(REFRESH_MS), { on: true, level: 1 }, '50 failures: hot whatever the share');
  await after(ATTACK_BUCKET_MS - REFRESH_MS);
  await record(4, 100);
  assert.equal((await after(ATTACK_BUCKET_MS)).level, 2, 'successes around its failures do not hold the level down');
});

test('the counters are read at most every REFRESH_MS, however many ask', async (t) => {
  let reads = 0;
  const { mode, after } = await detector(t, (store) => ({ record: (f, n) => store.record(f, n), read: (s, n) => (reads += 1, store.read(s, n)) }));
  await Promise.all(Array.from({ length: 20 }, () => mode.state()));
  await after(REFRESH_MS - 1);
  assert.equal(reads, 1);
  await after(1);
  assert.equal(reads, 2);
});

test('each 10 s at half the engaging rate or more raises the level, up to the cap; it holds while the campaign is held down, and falls once it is a trickle', async (t) => {
  const { record, after, messages } = await detector(t);
  const bucket = async (failures: number) => {
    await record(failures);
    return after(ATTACK_BUCKET_MS);
  };
  await record(10);
  assert.deepEqual(await after(REFRESH_MS), { on: true, level: 1 });
  assert.equal((await after(ATTACK_BUCKET_MS - REFRESH_MS)).level, 1, 'the engaging bucket is done: it moved the level once already');
  // minFailures 10: half the engaging rate is 5 a window, 1.7 in one bucket (prorated).
  assert.equal((await bucket(2)).level, 2, 'the campaign kept up half the rate: the cost doubles');
  assert.equal((await bucket(4)).level, 3);
  assert.equal((await bucket(10)).level, 3, 'capped at maxLevel');
  assert.equal((await bucket(1)).level, 3);
  assert.equal((await bucket(1)).level, 3);
  assert.deepEqual(await bucket(1), { on: true, level: 3 }, 'held under half the rate (3 in 30 s), not a trickle: the level stays');
  assert.deepEqual(await bucket(0), { on: true, level: 2 }, 'a trickle (2 in 30 s): one down');
  assert.deepEqual(messages(), ['attack mode on', 'attack mode level', 'attack mode level', 'attack mode level']);
});

test('a campaign slowed by the proof of work keeps it on; once it stops, it turns off within the quiet time, logged', async (t) => {
  const { record, after, lines } = await detector(t);
  await record(10);
  assert.equal((await after(REFRESH_MS)).on, true);
  for (let i = 0; i < 10; i += 1) {
    await record(2); // 4 a minute: below the threshold, still a campaign
    assert.equal((await after(ATTACK_WINDOW_MS)).on, true, `window ${i}`);
  }
  let off = 0;
  while ((await after(REFRESH_MS)).on) off += REFRESH_MS;
  assert.ok(off <= options.quietMs, `off ${off} ms after the last failure`);
  const line = lines.find((l) => l.msg === 'attack mode off');
  assert.ok(line && typeof line.level === 'number' && typeof line.failures === 'number', 'logged with the level and the counts');
});

test('a store failure while reading rejects with that failure (the post is a 503: nothing let through, no campaign claimed) until the counters answer again', async (t) => {
  let down = false;
  let reads = 0;
  const { mode, after, advance, messages } = await detector(t, (store) => ({
    record: (f, n) => store.record(f, n),
    read: async (s, n) => {
      reads += 1;
      if (down) throw new Error('connection refused');
      return store.read(s, n);
    },
  }));
  assert.equal((await mode.state()).on, false);
  down = true;
  await assert.rejects(after(REFRESH_MS), /connection refused/);
  assert.deepEqual(mode.last(), { on: false, level: 0, unavailable: true }, 'health shows the last state read, marked');
  const readsSoFar = reads;
  await assert.rejects(mode.state(), /connection refused/);
  assert.equal(reads, readsSoFar, 'within RETRY_MS the failure answers without asking the store again');
  advance(RETRY_MS);
  await assert.rejects(mode.state(), /connection refused/);
  assert.equal(reads, readsSoFar + 1, 'then it asks again');
  down = false;
  assert.deepEqual(await after(RETRY_MS), { on: false, level: 0 }, 'back: no campaign in the counters');
  assert.equal(mode.last().unavailable, false);
  assert.deepEqual(messages(), ['attack signals unavailable: unknown clients are refused (503) until they answer']);
});

test('a failure to record an outcome is logged, never thrown into the sign-in', async (t) => {
  const { mode, lines } = await detector(t, (store) => ({ read: (s, n) => store.read(s, n), record: async () => Promise.reject(new Error('down')) }));
  await mode.recordUnknownOutcome(true);
  assert.ok(lines.some((line) => line.msg === 'attack signal not recorded'));
});
