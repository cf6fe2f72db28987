/**
 * Store outages, for real: the app runs on a redis-server of the test's own, which the
 * test kills and starts again. Requests that need Redis are refused with 503 and
 * Retry-After within 2 s (never a hang, never let through), and service comes back by
 * itself within 5 s of Redis returning.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { ownRedis } from '../helpers/services.js';
import { waitUntil } from '../helpers/wait.js';

test('Redis down: 503 with Retry-After in time (JSON for calls, a page for pages), /readyz 503, /healthz 200; back by itself', async (t) => {
  const redis = await ownRedis(t);
  const app = await build(t, { storage: { redisUrl: redis.url }, ipRateLimits: { imagesPerMinute: 1_000 } });
  const agent = app.agent();
  await agent.get('/get_validCode_img?id=p1').expect(200);
  await agent.get('/readyz').expect(200);

  await redis.stop();
  const started = Date.now();
  const picture = await agent.get('/get_validCode_img?id=p1');
  assert.equal(picture.status, 503);
  assert.ok(Date.now() - started < 2_000, `answered in ${Date.now() - started} ms`);
  assert.equal(picture.headers['retry-after'], '5');
  assert.equal(picture.body.error.code, 'store_unavailable');
  const page = await agent.get('/login').set('Accept', 'text/html');
  assert.equal(page.status, 503, 'a page that reads the session is refused too');
  assert.match(page.text, /briefly unavailable/);
  const fresh = await app.agent().get('/get_validCode_img?id=p2');
  assert.equal(fresh.status, 503, 'a picture without a session is refused as well: its limit cannot be counted');
  await app.agent().get('/readyz').expect(503);
  await app.agent().get('/healthz').expect(200);
  assert.doesNotMatch(app.logs(), /"level":50/, 'no error-level log: an outage is not a bug');

  await redis.start();
  const back = Date.now();
  await waitUntil(async () => (await agent.get('/get_validCode_img?id=p1')).status === 200, 5_000, 'service to come back');
  assert.ok(Date.now() - back < 5_000);
  await app.agent().get('/readyz').expect(200);
});
