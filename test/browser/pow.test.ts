/// <reference lib="dom" />
/**
 * Attack mode's proof of work in Debian's Chromium (forced on through createApp's
 * attackMode seam): the page's workers solve while the person types, the progress is
 * shown in a polite live region, the form waits for the solution when sent early, a
 * pow_required refusal is solved and the same form sent again, and every sign-in takes
 * one click. The cost is cut to keep the test short; the README has the real figures.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page, Route } from 'playwright-core';
import { build } from '../helpers/build.js';
import { openInBrowser, waitForCaptcha } from '../helpers/browser.js';
import { ATTACK_OFF, ATTACK_ON, fixedAttackMode } from '../helpers/pow.js';

const alice = { username: 'alice', password: 'correct horse battery' };
/** Up to 2,000 tries of 1,000 iterations: visible progress, well under a second. */
const POW = { iterations: 1_000, counterMax: 2_000 };

/** Records every text #pow-status shows, from the start. */
async function recordPowStatus(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const texts: string[] = [];
    (window as unknown as { powTexts: string[] }).powTexts = texts;
    document.addEventListener('DOMContentLoaded', () => {
      const status = document.querySelector('#pow-status');
      if (status) new MutationObserver(() => texts.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
    });
  });
  return () => page.evaluate(() => (window as unknown as { powTexts: string[] }).powTexts);
}

function countPosts(page: Page, path: string): { bodies: Array<Record<string, unknown>> } {
  const seen = { bodies: [] as Array<Record<string, unknown>> };
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === path) seen.bodies.push(request.postDataJSON() as Record<string, unknown>);
  });
  return seen;
}

function watchProblems(page: Page, expected: RegExp): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !expected.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  return problems;
}

test('attack mode: the page solves while the person types, shows and announces it, and signs in with one click', async (t) => {
  const app = await build(t, { attackMode: fixedAttackMode(ATTACK_ON), powCost: POW });
  await app.createUser(alice.username, alice.password);
  const { base, page } = await openInBrowser(t, app);
  const problems = watchProblems(page, /^$/);
  const texts = await recordPowStatus(page);
  const posts = countPosts(page, '/login');

  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  await page.fill('#username', alice.username);
  await page.fill('#password', alice.password);
  await page.fill('#captcha', app.answers.at(-1) as string);
  await page.waitForFunction(() => document.querySelector('#pow-status')?.textContent === 'Browser check done.');
  assert.equal(await page.getAttribute('#pow-status', 'role'), 'status', 'announced politely');
  assert.equal(await page.getAttribute('#pow-status', 'aria-live'), 'polite');
  assert.equal(await page.isVisible('#pow-help'), true, 'the page says why');
  const shown = await texts();
  assert.equal(shown[0], 'Checking this browser… 0 %');
  assert.ok(shown.every((text) => /^Checking this browser… \d+ %$|^Browser check done\.$/.test(text)), shown.join(' | '));

  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
  assert.equal(posts.bodies.length, 1, 'one post');
  assert.equal(typeof posts.bodies[0]?.pow, 'string', 'with the proof of work');
  assert.deepEqual(problems, [], 'no console errors or CSP violations (module workers under script-src self)');
});

test('attack mode: a form sent before the solution is ready says so, waits, and goes by itself', async (t) => {
  const app = await build(t, { attackMode: fixedAttackMode(ATTACK_ON), powCost: POW });
  await app.createUser(alice.username, alice.password);
  const { base, page } = await openInBrowser(t, app);
  const posts = countPosts(page, '/login');
  // The challenge is held until the form is sent, so the solution cannot be ready before.
  let held: Route | undefined;
  const challengeHeld = new Promise<void>((resolve) => {
    void page.route('**/pow-challenge', (route) => {
      held = route;
      resolve();
    });
  });
  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  await challengeHeld;
  await page.fill('#username', alice.username);
  await page.fill('#password', alice.password);
  await page.fill('#captcha', app.answers.at(-1) as string);
  await page.click('#submit');
  await page.waitForFunction(() => /^Finishing the browser check… \d+ %\. The form is sent as soon as it is done\.$/.test(document.querySelector('#pow-status')?.textContent ?? ''));
  assert.equal(await page.isDisabled('#submit'), true);
  assert.equal(posts.bodies.length, 0, 'nothing sent yet');
  await Promise.all([page.waitForURL(`${base}/`), held?.continue()]);
  assert.equal(posts.bodies.length, 1);
});

test('attack mode turned on after the page loaded: the 428 challenge is solved and the same form sent again, without a click', async (t) => {
  const attackMode = fixedAttackMode(ATTACK_OFF);
  const app = await build(t, { attackMode, powCost: POW });
  await app.createUser(alice.username, alice.password);
  const { base, page } = await openInBrowser(t, app);
  const problems = watchProblems(page, /status of 428/);
  const posts = countPosts(page, '/login');

  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  await page.waitForLoadState('networkidle');
  assert.equal(await page.textContent('#pow-status'), '', 'outside attack mode the page shows nothing');
  assert.equal(await page.isHidden('#pow-help'), true);
  attackMode.set(ATTACK_ON);
  await page.fill('#username', alice.username);
  await page.fill('#password', alice.password);
  await page.fill('#captcha', app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
  assert.equal(posts.bodies.length, 2, 'refused once for want of a proof of work, then sent again');
  assert.equal(posts.bodies[0]?.pow, undefined);
  assert.equal(posts.bodies[1]?.captcha, posts.bodies[0]?.captcha, 'the same captcha: the refusal did not spend it');
  assert.deepEqual(problems, []);
});

test('attack mode: sign-up pays the proof of work the same way', async (t) => {
  const app = await build(t, { attackMode: fixedAttackMode(ATTACK_ON), powCost: POW });
  const { base, page } = await openInBrowser(t, app, { height: 820 });
  const posts = countPosts(page, '/register');
  await page.goto(`${base}/register`);
  await waitForCaptcha(page);
  await page.fill('#username', 'newcomer');
  await page.fill('#password', 'violet kettle drums at midnight');
  await page.fill('#captcha', app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
  assert.equal(posts.bodies.length, 1);
  assert.equal(typeof posts.bodies[0]?.pow, 'string');
});
