/**
 * Floods one route with cookieless requests and shows that the session table and the
 * process's memory stay bounded. On the captcha image route every request makes an
 * anonymous session, which expires 10 minutes after its last request and is pruned; a
 * page (--path /login, /register) makes none, since its form token lives in a cookie.
 *
 * Usage: npm run flood -- [--requests N] [--path P]   (default 100,000 requests to
 * /get_validCode_img; per-IP limits off). The store's clock is advanced by 11 minutes at
 * the end instead of waiting.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createApp } from '../src/app.js';
import { createStrengthEstimator } from '../src/auth/password-strength.js';
import { loadAudioClips } from '../src/captcha/audio-clips.js';
import { registerCaptchaFonts } from '../src/captcha/fonts.js';
import { createLogger } from '../src/logger.js';
import { openStores } from '../src/storage/index.js';
import { DATABASE_FILE } from '../src/storage/sqlite/database.js';

const MIB = 1024 * 1024;

function parseArguments(argv: string[]): { requests: number; path: string } {
  const { values } = parseArgs({ args: argv, options: { requests: { type: 'string' }, path: { type: 'string' } } });
  const requests = Number(values.requests ?? 100_000);
  if (!Number.isInteger(requests) || requests < 1) throw new Error('--requests takes a positive whole number');
  const target = values.path ?? '/get_validCode_img';
  if (!target.startsWith('/')) throw new Error('--path takes a path such as /login');
  return { requests, path: target };
}

function memory(): { rssMiB: number; heapMiB: number; externalMiB: number } {
  globalThis.gc?.();
  const usage = process.memoryUsage();
  const mib = (bytes: number) => Math.round(bytes / MIB);
  return { rssMiB: mib(usage.rss), heapMiB: mib(usage.heapUsed), externalMiB: mib(usage.external) };
}

async function main(): Promise<void> {
  const { requests, path: target } = parseArguments(process.argv.slice(2));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'captcha-login-flood-'));
  let storeTime = Date.now();
  // The stores read this clock; moving it past the anonymous lifetime stands in for waiting.
  const stores = await openStores({ dataDir, pruneIntervalMs: 0, clock: () => storeTime });
  const { db } = stores;
  if (!db) throw new Error('flood: openStores gave no SQLite file');
  registerCaptchaFonts();
  const strength = createStrengthEstimator();
  const app = createApp({
    logger: createLogger('silent'),
    stores,
    sessionSecret: 'flood-test-secret-flood-test-secret-0000',
    ipRateLimits: false,
    strength,
    audioClips: loadAudioClips(),
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${target}`;
  console.log(`flooding ${target} with ${requests.toLocaleString('en')} cookieless requests`);
  const sessionRows = () => (db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n;
  const dbMiB = () => Math.round((statSync(path.join(dataDir, DATABASE_FILE)).size / MIB) * 10) / 10;

  const flood = async (amount: number) => {
    const result = await autocannon({ url, connections: 16, amount });
    return { ok: result['2xx'], other: result.non2xx + result.errors, reqPerSec: Math.round(result.requests.average) };
  };

  await flood(1_000);
  const report = (label: string) => {
    const { rssMiB, heapMiB, externalMiB } = memory();
    console.log(`${label}: ${sessionRows()} sessions, rss ${rssMiB} MiB, heap ${heapMiB} MiB, external ${externalMiB} MiB, database ${dbMiB()} MiB`);
  };
  report('after 1,000 warm-up requests');
  const STEPS = 5;
  let sent = 0;
  let failed = 0;
  for (let step = 1; step <= STEPS; step += 1) {
    const amount = Math.floor((requests * step) / STEPS) - sent;
    const result = await flood(amount);
    sent += amount;
    failed += result.other;
    report(`after ${sent.toLocaleString('en')} more (${result.reqPerSec} req/s)`);
  }
  console.log(`failed or non-2xx responses: ${failed}`);

  storeTime = Date.now() + 11 * 60_000;
  let pruned = 0;
  for (let batch = await stores.prune(); batch > 0; batch = await stores.prune()) pruned += batch;
  console.log(`11 minutes later: pruned ${pruned} expired rows (anonymous sessions and spent captchas), ${sessionRows()} left`);

  server.close();
  await stores.close();
  await strength.close();
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
