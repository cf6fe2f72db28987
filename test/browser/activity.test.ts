/// <reference lib="dom" />
/**
 * Recent activity in Debian's Chromium: after a failed sign-in and a right one, home lists
 * both, newest first, with the network and the time in the browser's own time zone (here
 * Shanghai, UTC+8, so the time cannot pass for UTC), and "was this you?" leads on by
 * keyboard. Without scripts the same rows carry their time in UTC, said so.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { openInBrowser, waitForCaptcha } from '../helpers/browser.js';

test('after a failed sign-in and a right one, home lists both in local time, and its links are reached by keyboard', async (t) => {
  const app = await build(t);
  await app.createUser('alice', 'correct horse battery');
  const { base, page } = await openInBrowser(t, app, { height: 900, timezoneId: 'Asia/Shanghai' });
  const problems: string[] = [];
  page.on('console', (message) => {
    // The failed sign-in is an expected 401.
    if (message.type() === 'error' && !message.text().includes('status of 401')) problems.push(message.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));

  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'not the password');
  await page.fill('#captcha', app.answers.at(-1) as string);
  await page.click('#submit');
  await page.waitForSelector('#form-status .alert-danger');
  await waitForCaptcha(page);
  await page.fill('#password', 'correct horse battery');
  await page.fill('#captcha', app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);

  const rows = await page.$$eval('#activity-list .activity-event', (items) =>
    items.map((item) => [item.querySelector('.activity-text')?.textContent?.trim() ?? '', item.querySelector('.activity-network')?.textContent?.trim() ?? '']),
  );
  assert.deepEqual(
    rows,
    [
      ['Signed in with your password', '127.0.0.0/24'],
      ['Failed sign-in: wrong password', '127.0.0.0/24'],
    ],
  );
  const [iso, shown] = await page.$eval('#activity-list time', (time) => [time.getAttribute('datetime') ?? '', time.textContent ?? '']);
  const at = new Date(iso);
  const shanghai = new Date(at.getTime() + 8 * 60 * 60_000);
  const hour = String(shanghai.getUTCHours() % 12 || 12);
  assert.match(shown, new RegExp(`\\b${hour}:${String(shanghai.getUTCMinutes()).padStart(2, '0')}\\s?[AP]M GMT\\+8$`), `${shown} is Shanghai's time of ${iso}`);
  assert.doesNotMatch(shown, /UTC/);

  // "Was this you?": the two ways on are the next stops after the passkeys, by keyboard.
  await page.focus('#passkey-add');
  const stops: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    await page.keyboard.press('Tab');
    stops.push(await page.evaluate(() => document.activeElement?.id ?? ''));
  }
  assert.deepEqual(stops, ['activity-sign-out-everywhere', 'activity-change-password']);
  assert.deepEqual(problems, [], 'no console errors or CSP violations');
});

test('without scripts, each time stays in UTC and says so', async (t) => {
  const app = await build(t);
  await app.createUser('alice', 'correct horse battery');
  const { base, page } = await openInBrowser(t, app, { timezoneId: 'Asia/Shanghai' });
  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse battery');
  await page.fill('#captcha', app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
  await page.route('**/static/js/activity.js', (route) => route.fulfill({ status: 404, body: '' }));
  await page.reload();
  assert.match((await page.textContent('#activity-list time')) ?? '', / UTC$/);
});
