/**
 * The attack simulator (scripts/attack/): its page flow against a stand-in server that
 * asks for a proof of work and is busy once (the payload it sends must be one altcha-lib
 * itself verifies), and `npm run attack` shortened on the compiled server (SQLite, 20
 * accounts, 8 workers, 12 s after 1 s of people alone; about 45 s with the build),
 * asserting only directions that hold on a loaded machine.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { verify } from 'altcha-lib/frameworks/shared';
import { Browser } from '../../scripts/attack/browser.js';
import { ANSWER_HEADER, Tally, signInThroughPage } from '../../scripts/attack/flow.js';
import type { Figures, RunFacts } from '../../scripts/attack/report.js';
import { ROOT_DIR } from '../../src/paths.js';

const POW_SECRET = 'stand-in-server-secret';

/** /login, a picture whose answer is in the harness header, and a post that wants a proof of work, then is busy once. */
async function standInServer(): Promise<{ base: string; posts: Array<Record<string, unknown>>; close: () => Promise<void> }> {
  const posts: Array<Record<string, unknown>> = [];
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const challenge = (): Promise<Challenge> => createChallenge({ algorithm: 'PBKDF2/SHA-256', cost: 50, deriveKey, hmacSignatureSecret: POW_SECRET });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/login') {
      res.end('<meta name="csrf-token" content="tok"><form data-captcha-id="slot1">');
    } else if (req.method === 'GET' && url.pathname === '/get_validCode_img') {
      res.writeHead(200, { 'Content-Type': 'image/png', [ANSWER_HEADER]: 'ACEHJ' }).end('png');
    } else if (req.method === 'GET' && url.pathname === '/pow-challenge') {
      json(res, 200, { ok: true, required: false });
    } else if (req.method === 'POST' && url.pathname === '/login') {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        void (async () => {
          const body = JSON.parse(text) as Record<string, unknown>;
          posts.push(body);
          if (posts.length === 1) return json(res, 428, { ok: false, error: { code: 'pow_required', message: 'm' }, pow: { challenge: await challenge() } });
          if (posts.length === 2) return json(res, 503, { ok: false, error: { code: 'busy', message: 'm' } }, { 'Retry-After': '0' });
          const checked = await verify(body.pow, deriveKey, POW_SECRET);
          if (checked.error !== null || body.captcha !== 'ACEHJ' || req.headers['x-csrf-token'] !== 'tok') {
            return json(res, 400, { ok: false, error: { code: 'pow_invalid', message: String(checked.error) } });
          }
          json(res, 200, { ok: true, redirect: '/' });
        })();
      });
    } else {
      json(res, 404, { ok: false, error: { code: 'not_found', message: 'm' } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test('the simulator pays a proof of work the post asks for (a payload altcha-lib verifies), waits out a busy answer, and sends the same form again', async (t) => {
  const server = await standInServer();
  t.after(server.close);
  const tally = new Tally();
  const result = await signInThroughPage(new Browser(server.base, '127.0.0.1'), { username: 'alice', password: 'pw' }, {
    accuracy: 1,
    maxPictures: 3,
    deadline: Date.now() + 30_000,
    maxWaitMs: 1_000,
    tally,
  });
  assert.equal(result.outcome, 'signed_in', result.detail);
  assert.equal(result.granted, true);
  assert.equal(server.posts.length, 3);
  assert.equal(server.posts[0]?.pow, undefined, 'no proof of work before the server asks');
  assert.equal(server.posts[2]?.captcha, server.posts[0]?.captcha, 'the same form (the captcha was not spent) is sent again');
  assert.equal(tally.get('pow.required'), 1);
  assert.equal(tally.get('pow.solved'), 1);
  assert.equal(tally.get('busy'), 1);
  assert.equal(tally.get('pictures'), 1);
});

test('npm run attack, shortened: the table prints, the campaign turns attack mode on and the bot pays proofs of work, the known device (with its device cookie) signs in every time, takeovers never exceed the right pairs reached', { timeout: 120_000 }, (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attack-test-'));
  try {
    const jsonFile = path.join(dir, 'figures.json');
    const args = ['--accounts', '20', '--pairs', '400', '--right-share', '0.02', '--workers', '8', '--warmup', '1', '--duration', '20', '--json', jsonFile];
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/attack/main.ts', ...args], { cwd: ROOT_DIR, encoding: 'utf8', timeout: 110_000 });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    // The table in the test's output: a glance at the figures of each run of the suite.
    for (const line of run.stdout.split('\n').filter((l) => l.startsWith('|'))) t.diagnostic(line);
    for (const row of ["pictures the bot's reader got past", 'password checks granted to the bot', 'takeovers', 'person, known device', 'person, new device']) {
      assert.match(run.stdout, new RegExp(`\\| ${row}`), `the table has "${row}"`);
    }
    const { facts, figures } = JSON.parse(readFileSync(jsonFile, 'utf8')) as { facts: RunFacts; figures: Figures };
    assert.equal(facts.harness.unmapped, 0, 'every picture came with its answer');
    assert.ok(figures.grantedChecks > 0, 'the bot reached the password check');
    assert.ok(figures.takeovers.taken <= figures.takeovers.rightReached);
    const known = figures.people.known.during;
    assert.ok(known.attempts >= 1, 'the known-device person tried during the attack');
    assert.equal(known.succeeded, known.attempts, `every known-device sign-in succeeded: ${known.failures.join('; ')}`);
    assert.ok((figures.picturesPassedPercent ?? 0) > 50, 'the reader passes most pictures');
    // The direction of issue 17: the campaign is noticed and each guess costs the bot.
    assert.ok(figures.pow.askedByPage + figures.pow.required > 0, 'attack mode engaged: the bot was asked for a proof of work');
    assert.ok(figures.pow.solved > 0, 'and paid one for real');
    assert.equal(facts.deviceCookie, true, 'the known person holds a device cookie');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
