/// <reference lib="dom" />
/**
 * The whole path a person takes, in Debian's Chromium driven by playwright-core against
 * the app on a real port. Saves a screenshot of the login page to test-output/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Route } from 'playwright-core';
import { StoreUnavailableError } from '../../src/storage/ports.js';
import { build } from '../helpers/build.js';
import { SCREENSHOT_DIR, captchaState, openInBrowser, waitForCaptcha, waitForNewCaptcha } from '../helpers/browser.js';
import { withOverrides } from '../helpers/overrides.js';

test('a person signs in with the captcha and signs out, in a real browser', async (t) => {
  const app = await build(t);
  await app.createUser('alice', 'correct horse battery');
  const { base, page } = await openInBrowser(t, app);
  const problems: string[] = [];
  page.on('console', (message) => {
    // The failed sign-in below is an expected 400; anything else (a CSP refusal, a
    // missing file, a script error) is a problem.
    const expected = message.text().includes('status of 400');
    if (message.type() === 'error' && !expected) problems.push(message.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));

  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  const first = await captchaState(page);
  assert.equal(first.width, 270, 'the captcha image loaded');
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'login.png') });

  await page.click('#captcha-image');
  const afterClick = await waitForNewCaptcha(page, first.src);

  await page.focus('#captcha-refresh');
  await page.keyboard.press('Enter');
  const afterKeyboard = await waitForNewCaptcha(page, afterClick);

  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse battery');
  const current = app.answers.at(-1) as string;
  await page.fill('#captcha', current === 'AAAAA' ? 'CCCCC' : 'AAAAA');
  await page.click('#submit');
  await page.waitForSelector('#form-status .alert-danger');
  assert.match(await page.textContent('#form-status') ?? '', /captcha was not typed correctly/);
  await waitForNewCaptcha(page, afterKeyboard);
  assert.equal(await page.inputValue('#captcha'), '', 'the captcha field is cleared');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'login-error.png') });

  await page.fill('#captcha', (app.answers.at(-1) as string).toLowerCase());
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
  assert.match(await page.textContent('#greeting') ?? '', /Hello, alice!/);

  await Promise.all([page.waitForURL(`${base}/login`), page.click('#sign-out')]);
  const back = await page.goto(`${base}/`);
  assert.equal(new URL(back?.url() ?? '').pathname, '/login', 'signed out: home sends to /login');
  assert.deepEqual(problems, [], 'no console errors or CSP violations');
});

test('a newcomer registers in the browser, guided by the strength hint', async (t) => {
  const app = await build(t);
  const { base, page } = await openInBrowser(t, app, { height: 820 });

  await page.goto(`${base}/register`);
  await waitForCaptcha(page);
  await page.fill('#username', 'newcomer');
  await page.fill('#password', 'password1');
  await page.waitForSelector('#password-strength.text-danger');
  assert.match(await page.textContent('#password-strength') ?? '', /Strength: very weak — This is a commonly used password/);
  await page.fill('#password', 'violet kettle drums at midnight');
  await page.waitForSelector('#password-strength.text-success');
  assert.match(await page.textContent('#password-strength') ?? '', /Strength: (good|strong)/);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'register.png') });

  await page.fill('#captcha', app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
  assert.match(await page.textContent('#greeting') ?? '', /Hello, newcomer!/);
});

test('a sign-up answered 503 after its account was made: the person answers the new picture, sends again, and is signed in', async (t) => {
  let loseNext = true;
  const app = await build(t, {
    // The first create commits, but its reply is lost (a store blip): the post is answered 503.
    users: (real) =>
      withOverrides(real, {
        create: async (...args) => {
          const user = await real.create(...args);
          if (loseNext) {
            loseNext = false;
            throw new StoreUnavailableError(new Error('the reply was lost'));
          }
          return user;
        },
      }),
  });
  const { base, page } = await openInBrowser(t, app);
  await page.goto(`${base}/register`);
  await waitForCaptcha(page);
  const keys: unknown[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/register') keys.push((request.postDataJSON() as { signupKey?: unknown }).signupKey);
  });
  await page.fill('#username', 'newcomer');
  await page.fill('#password', 'violet kettle drums at midnight');
  const first = (await captchaState(page)).src;
  await page.fill('#captcha', app.answers.at(-1) as string);
  await page.click('#submit');
  await page.waitForSelector('#form-status .alert');
  assert.match(await page.textContent('#form-status') ?? '', /briefly unavailable/);

  await waitForNewCaptcha(page, first);
  await page.fill('#captcha', app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
  assert.match(await page.textContent('#greeting') ?? '', /Hello, newcomer!/);
  assert.equal(keys.length, 2);
  assert.equal(typeof keys[0], 'string');
  assert.equal(keys[1], keys[0], 'both tries sent the one key of the page');
});

test('a strength hint still on its way when sign-up is sent cannot undo the sign-up (its cookie would be the replaced session)', async (t) => {
  const app = await build(t);
  const { base, page } = await openInBrowser(t, app);
  await page.goto(`${base}/register`);
  await waitForCaptcha(page);
  await page.fill('#username', 'newcomer');
  await page.fill('#captcha', app.answers.at(-1) as string);

  // The hint is held in the browser until the submit has been handled.
  const events: string[] = [];
  let heldHint: Route | undefined;
  const hintHeld = new Promise<void>((resolve) => {
    void page.route('**/password-strength', (route) => {
      heldHint = route;
      resolve();
    });
  });
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/register') events.push('sign-up sent');
  });
  await page.fill('#password', 'violet kettle drums at midnight');
  await hintHeld;
  await page.click('#submit');
  await page.waitForSelector('#submit:disabled');
  events.push('hint released');
  await heldHint?.continue();
  await page.waitForURL(`${base}/`);
  assert.deepEqual(events, ['hint released', 'sign-up sent'], 'sign-up waits for the hint');
  await page.reload();
  assert.match(await page.textContent('#greeting') ?? '', /Hello, newcomer!/, 'still signed in');
});

test('a picture refused by the per-IP limit says why instead of showing a broken image', async (t) => {
  const app = await build(t, { ipRateLimits: { imagesPerMinute: 1 } });
  const { base, page } = await openInBrowser(t, app);

  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  assert.equal(await page.textContent('#form-status'), '', 'no message while the picture loads');

  await page.click('#captcha-refresh'); // the second picture this minute: 429
  await page.waitForSelector('#form-status .captcha-image-error');
  assert.match(await page.textContent('#form-status') ?? '', /The picture could not be loaded/);
  assert.equal(await page.$eval('#captcha-image', (img) => (img as HTMLImageElement).naturalWidth), 0, 'the picture is broken');
  assert.equal(await page.getAttribute('#form-status .alert', 'role'), 'alert', 'announced to screen readers');
});

test('a tab left open recovers by itself: after sign-in in another tab, and after its token expired', async (t) => {
  const app = await build(t);
  await app.createUser('alice', 'correct horse battery');
  await app.createUser('bob', 'violet kettle drums');
  const { base, page } = await openInBrowser(t, app);
  const problems: string[] = [];
  page.on('console', (message) => {
    // The stale token's refused post is an expected 403, recovered from.
    if (message.type() === 'error' && !message.text().includes('status of 403')) problems.push(message.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));

  const other = await page.context().newPage();
  for (const tab of [page, other]) {
    await tab.goto(`${base}/login`);
    await tab.waitForFunction(() => document.querySelector<HTMLImageElement>('#captcha-image')?.naturalWidth === 270);
  }
  const [pageAnswer, otherAnswer] = app.answers.slice(-2) as [string, string];
  await other.fill('#username', 'alice');
  await other.fill('#password', 'correct horse battery');
  await other.fill('#captcha', otherAnswer);
  await Promise.all([other.waitForURL(`${base}/`), other.click('#submit')]);

  await page.fill('#username', 'bob');
  await page.fill('#password', 'violet kettle drums');
  await page.fill('#captcha', pageAnswer);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
  assert.match(await page.textContent('#greeting') ?? '', /Hello, bob!/, 'the first tab signed in after the other did');

  await page.goto(`${base}/login`);
  await page.waitForFunction(() => document.querySelector<HTMLImageElement>('#captcha-image')?.naturalWidth === 270);
  app.clock.advance(2 * 60 * 60_000 + 1); // the page's token has expired; a fresh picture is needed too
  const before = (await captchaState(page)).src;
  await page.click('#captcha-refresh');
  await waitForNewCaptcha(page, before);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse battery');
  await page.fill('#captcha', app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
  assert.match(await page.textContent('#greeting') ?? '', /Hello, alice!/, 'signed in without a word about the stale token');
  assert.deepEqual(problems, []);
});
