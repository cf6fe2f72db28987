/**
 * The metrics listener (src/metrics/serve.ts): off unless METRICS_PORT is set, loopback
 * unless METRICS_HOST says otherwise (and then only with METRICS_TOKEN), the bearer token
 * checked, and never the app's own port.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createMetricsServer, registrySource, type MetricsSource } from '../../src/metrics/serve.js';
import { build } from '../helpers/build.js';
import { sample } from '../helpers/metrics.js';

const TOKEN = 'a-metrics-token-of-at-least-32-characters';

const configError = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('the configuration was accepted');
};

test('METRICS_* in the config: off by default, loopback by default, a token required beyond the machine', () => {
  assert.equal(loadConfig({}).metrics, undefined, 'nothing is served unless METRICS_PORT is set');
  assert.deepEqual(loadConfig({ METRICS_PORT: '9464' }).metrics, { port: 9464, host: '127.0.0.1', token: undefined });
  assert.deepEqual(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0', METRICS_TOKEN: TOKEN }).metrics, { port: 9464, host: '0.0.0.0', token: TOKEN });
  assert.deepEqual(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '::1' }).metrics, { port: 9464, host: '::1', token: undefined });

  assert.match(configError({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }), /METRICS_TOKEN: is required when METRICS_HOST \(0\.0\.0\.0\) is not a loopback address/);
  assert.match(configError({ METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5' }), /METRICS_TOKEN: is required/);
  assert.match(configError({ METRICS_TOKEN: TOKEN }), /METRICS_TOKEN: has no effect without METRICS_PORT/);
  assert.match(configError({ METRICS_HOST: '127.0.0.1' }), /METRICS_HOST: has no effect without METRICS_PORT/);
  assert.match(configError({ METRICS_PORT: '3000' }), /METRICS_PORT: must differ from PORT \(3000\)/);
  assert.match(configError({ METRICS_PORT: '8080', PORT: '8080' }), /METRICS_PORT: must differ from PORT \(8080\)/);
  assert.match(configError({ METRICS_PORT: '9464', METRICS_TOKEN: 'short' }), /METRICS_TOKEN: must be at least 32 characters/);
  assert.match(configError({ METRICS_PORT: 'lots' }), /METRICS_PORT:/);
  assert.equal(configError({ METRICS_PORT: '9464', PORT: 'lots' }).match(/(?<![A-Z_])PORT:/g)?.length, 1, 'a bad PORT is reported once');
});

async function listen(t: TestContext, source: MetricsSource, token?: string): Promise<{ base: string; logs: () => string }> {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => done(void lines.push(String(chunk))) }));
  const server = createMetricsServer(source, token, logger).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs: () => lines.join('') };
}

test('the listener serves GET /metrics with the bearer token only, and nothing else', async (t) => {
  const metrics = createMetrics();
  metrics.rateLimited('images');
  const { base } = await listen(t, registrySource(metrics.registry), TOKEN);

  const anonymous = await fetch(`${base}/metrics`);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
  assert.equal(await anonymous.text(), '', 'nothing of the metrics without the token');
  assert.equal((await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}x` } })).status, 401);
  assert.equal((await fetch(`${base}/metrics`, { headers: { Authorization: TOKEN } })).status, 401);

  const scraped = await fetch(`${base}/metrics?x=1`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(scraped.status, 200);
  assert.match(String(scraped.headers.get('content-type')), /^text\/plain; version=0\.0\.4/);
  assert.equal(scraped.headers.get('cache-control'), 'no-store');
  assert.equal(sample(await scraped.text(), 'captcha_login_rate_limited_total', { limiter: 'images' }), 1);

  assert.equal((await fetch(`${base}/`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 404);
  assert.equal((await fetch(`${base}/metricsx`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 404);
  const post = await fetch(`${base}/metrics`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});

test('without a token the loopback listener answers any scrape; a collection that fails is a 503 and a log line', async (t) => {
  const open = await listen(t, registrySource(createMetrics().registry));
  assert.equal((await fetch(`${open.base}/metrics`)).status, 200);

  const failing = await listen(t, { contentType: 'text/plain', read: () => Promise.reject(new Error('Operation timed out.')) });
  assert.equal((await fetch(`${failing.base}/metrics`)).status, 503);
  assert.match(failing.logs(), /metrics could not be collected/);
});

test("the app's own port serves no metrics", async (t) => {
  const app = await build(t, { metrics: createMetrics() });
  await app.agent().get('/metrics').expect(404);
});
