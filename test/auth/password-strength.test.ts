import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { ESTIMATE_MAX_CHARS, EstimatorBusyError, createStrengthEstimator } from '../../src/auth/password-strength.js';
import { build, serve } from '../helpers/build.js';

/** zxcvbn's slowest kind of input we know: digits repeated (~0.5 s on the event loop at 100 characters). */
const SLOW_PASSWORD = '1234567890'.repeat(10);

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

test('a flood of slow strength hints does not slow the other routes', async (t) => {
  const app = await build(t); // per-IP limits off: what is tested is the event loop, not the budget
  const base = await serve(t, app);
  const page = await fetch(`${base}/register`);
  const cookie = page.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
  const token = /<meta name="csrf-token" content="([^"]+)">/.exec(await page.text())?.[1] ?? '';
  const hint = () =>
    fetch(`${base}/password-strength`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': token },
      body: JSON.stringify({ password: SLOW_PASSWORD }),
    });
  assert.equal((await hint()).status, 200, 'the estimator works (and its thread has started)');

  // Twelve requests always in flight; one turned away (503) tries again once an estimate
  // has been answered, so the flood keeps the estimator saturated without the test's own
  // client spinning on this process's event loop.
  let flooding = true;
  let answered = signal();
  const statuses = new Map<number, number>();
  const flooders = Array.from({ length: 12 }, async () => {
    while (flooding) {
      const res = await hint();
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 200) {
        answered.resolve();
        answered = signal();
      } else if (flooding) {
        await answered.promise;
      }
    }
  });
  const latencies: number[] = [];
  const floodStarted = performance.now();
  while (performance.now() - floodStarted < 3_000) {
    const started = performance.now();
    const res = await fetch(`${base}/static/css/app.css`, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    latencies.push(performance.now() - started);
  }
  flooding = false;
  answered.resolve();
  await Promise.all(flooders);

  latencies.sort((a, b) => a - b);
  const median = latencies[Math.floor(latencies.length / 2)] as number;
  const max = latencies.at(-1) as number;
  t.diagnostic(`static file during the flood: median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms; hint statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.ok((statuses.get(200) ?? 0) > 0, 'hints were still answered');
  assert.ok([...statuses.keys()].every((status) => status === 200 || status === 503), 'a saturated estimator answers 503');
  assert.ok(median < 250, `a static file took ${median.toFixed(1)} ms (median) while hints were flooding`);
});

test('an estimate past its deadline or beyond the queue fails as busy', async (t) => {
  const hasty = createStrengthEstimator({ deadlineMs: 1 });
  t.after(() => hasty.close());
  await assert.rejects(hasty.estimate(SLOW_PASSWORD), EstimatorBusyError);
  const estimator = createStrengthEstimator({ queueMax: 1 });
  t.after(() => estimator.close());
  await estimator.estimate('the thread is started');
  const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => estimator.estimate(SLOW_PASSWORD)));
  const busy = outcomes.filter((outcome) => outcome.status === 'rejected' && outcome.reason instanceof EstimatorBusyError);
  assert.ok(busy.length >= 3, `${busy.length} of 5 refused with one thread and one place in the queue`);
  assert.ok(outcomes.some((outcome) => outcome.status === 'fulfilled'));
  assert.equal((await estimator.estimate('violet kettle drums at midnight')).acceptable, true, 'it serves on');
});

test('the estimator sees only the first characters', async (t) => {
  const estimator = createStrengthEstimator();
  t.after(() => estimator.close());
  const head = 'aaaaaaaa'.repeat(ESTIMATE_MAX_CHARS / 8);
  const [capped, tailed] = await Promise.all([estimator.estimate(head), estimator.estimate(`${head}violet kettle drums at midnight`)]);
  assert.deepEqual(tailed, capped);
});
