/// <reference lib="dom" />
/**
 * Signing in with the keyboard alone, in Chromium: the Tab order of the form, Listen and
 * New picture by key, Enter to submit, and after a miss the focus on the message and an
 * empty answer field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { build } from '../helpers/build.js';
import { openInBrowser, waitForCaptcha, waitForNewCaptcha } from '../helpers/browser.js';

const focused = (page: Page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.className || '');

async function tab(page: Page, key: 'Tab' | 'Shift+Tab', expected: string): Promise<void> {
  await page.keyboard.press(key);
  assert.equal(await focused(page), expected, `${key} should reach #${expected}`);
}

test('a person signs in with the keyboard alone', async (t) => {
  const app = await build(t);
  await app.createUser('alice', 'correct horse battery');
  const { base, page } = await openInBrowser(t, app);
  await page.goto(`${base}/login`);
  await waitForCaptcha(page);

  assert.equal(await focused(page), 'username', 'the page opens in the username field');
  await page.keyboard.type('alice');
  await tab(page, 'Tab', 'password');
  await page.keyboard.type('correct horse battery');
  for (const id of ['captcha', 'captcha-listen', 'captcha-refresh', 'submit']) await tab(page, 'Tab', id);
  for (const id of ['captcha-refresh', 'captcha-listen', 'captcha']) await tab(page, 'Shift+Tab', id);

  // Listen and New picture work from the keyboard and hand the focus back to the answer.
  await tab(page, 'Tab', 'captcha-listen');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !document.querySelector<HTMLAudioElement>('#captcha-audio')?.paused);
  assert.equal(await focused(page), 'captcha');
  const firstPicture = (await page.getAttribute('#captcha-image', 'src')) ?? '';
  await tab(page, 'Tab', 'captcha-listen');
  await tab(page, 'Tab', 'captcha-refresh');
  await page.keyboard.press('Space');
  await waitForNewCaptcha(page, firstPicture);
  assert.equal(await focused(page), 'captcha');
  assert.equal(await page.$eval('#captcha-audio', (audio) => (audio as HTMLAudioElement).paused), true, 'the old sound stopped');

  // A miss: Enter submits, the message takes the focus, the answer field is empty.
  const missedPicture = (await page.getAttribute('#captcha-image', 'src')) ?? '';
  const current = app.answers.at(-1) as string;
  await page.keyboard.type(current === 'AAAAA' ? 'CCCCC' : 'AAAAA');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#form-status .alert-danger');
  await waitForNewCaptcha(page, missedPicture);
  assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('#form-status .alert')), true, 'the focus is on the message');
  assert.match(await page.textContent('#form-status') ?? '', /captcha was not typed correctly/);
  assert.equal(await page.inputValue('#captcha'), '', 'the answer field is cleared');

  // From the message, Tab leads through the kept fields to the answer; Enter signs in.
  for (const id of ['username', 'password', 'captcha']) await tab(page, 'Tab', id);
  await page.keyboard.type((app.answers.at(-1) as string).toLowerCase());
  await Promise.all([page.waitForURL(`${base}/`), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('#greeting') ?? '', /Hello, alice!/);
});
