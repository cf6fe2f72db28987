/// <reference lib="dom" />
/**
 * Where you're signed in and changing the password, in Debian's Chromium: alice signs in
 * on two browser contexts (two devices), signs the other out from the first with the
 * keyboard alone, and the other is signed out at its next request; then she changes her
 * password, which signs the other out again. axe-core checks every state of both pages
 * (WCAG 2.0-2.2 A and AA), in English and in Chinese; screenshots go to test-output/a11y/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { build, type TestApp } from '../helpers/build.js';
import { SCREENSHOT_DIR, openInBrowser, waitForCaptcha } from '../helpers/browser.js';

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const A11Y_DIR = path.join(SCREENSHOT_DIR, 'a11y');
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'violet kettle drums at midnight';

async function audit(page: Page, state: string): Promise<string[]> {
  await page.mouse.move(0, 0);
  mkdirSync(A11Y_DIR, { recursive: true });
  await page.screenshot({ path: path.join(A11Y_DIR, `${state}.png`), fullPage: true });
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  return violations.map((v) => `${state}: ${v.id} (${v.nodes.length}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

async function signIn(app: TestApp, page: Page, base: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  await page.fill('#username', 'alice');
  await page.fill('#password', password);
  await page.fill('#captcha', app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
}

/** Presses Tab until the focus is on `selector` (at most 40 times): the page is used by keyboard alone. */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let i = 0; i < 40; i += 1) {
    if (await page.evaluate((wanted) => document.activeElement?.matches(wanted) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${selector}`);
}

/** Where the other device's next request lands. */
async function pathAfterReload(page: Page): Promise<string> {
  const res = await page.reload();
  return new URL(res?.url() ?? '').pathname;
}

for (const locale of ['en', 'zh-CN'] as const) {
  test(`two devices: one signs the other out, by keyboard, and a password change signs it out again; axe on every state, ${locale}`, { timeout: 60_000 }, async (t) => {
    const app = await build(t);
    await app.createUser('alice', PASSWORD);
    const { base, page } = await openInBrowser(t, app, { locale, height: 820 });
    const browser = page.context().browser();
    assert.ok(browser);
    const otherContext = await browser.newContext({ locale, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1' });
    const other = await otherContext.newPage();
    const problems: string[] = [];
    for (const each of [page, other]) each.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (message) => {
      // The wrong current password below is an expected 403; anything else is a problem.
      if (message.type() === 'error' && !message.text().includes('status of 403')) problems.push(message.text());
    });
    const violations: string[] = [];
    const check = async (state: string) => violations.push(...(await audit(page, `${locale}-${state}`)));

    await signIn(app, page, base);
    await signIn(app, other, base);
    await page.goto(`${base}/account/sessions`);
    assert.equal(await page.locator('#session-list tbody tr').count(), 2);
    assert.match((await page.textContent('tr[aria-current] th')) ?? '', locale === 'en' ? /HeadlessChrome|Chrome on Linux/ : /Linux 上的/);
    assert.match((await page.textContent('tbody tr:not([aria-current]) th')) ?? '', locale === 'en' ? /Safari on iOS/ : /iOS 上的 Safari/);
    assert.match((await page.getAttribute('tbody tr:not([aria-current]) time', 'datetime')) ?? '', /^\d{4}-\d\d-\d\dT/);
    await check('sessions');

    await tabTo(page, '.session-revoke');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#sessions-status .alert-success');
    assert.equal(await page.locator('#session-list tbody tr').count(), 1);
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('alert')), true, 'the message has the focus');
    assert.equal(await page.isVisible('#sessions-only-here'), true);
    assert.equal(await page.isVisible('#sessions-revoke-others'), false);
    await check('sessions-signed-out-one');
    assert.equal(await pathAfterReload(other), '/login', 'the other device is signed out at its next request');

    await signIn(app, other, base);
    await page.goto(`${base}/account/password`);
    await page.fill('#current-password', 'not my password');
    await page.fill('#new-password', 'password1');
    await page.waitForSelector('#password-strength.text-danger');
    await page.fill('#new-password', NEW_PASSWORD);
    await page.waitForSelector('#password-strength.text-success');
    await page.fill('#confirm-password', NEW_PASSWORD);
    await check('password');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#password-status .alert-danger');
    assert.equal(await page.inputValue('#current-password'), '', 'the wrong current password is cleared');
    await check('password-wrong');
    await tabTo(page, '#current-password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#password-status .alert-success');
    assert.match((await page.textContent('#password-status')) ?? '', /\(1\)|（1 个）/);
    await check('password-changed');
    assert.equal(await pathAfterReload(other), '/login', 'the password change signed the other device out');
    assert.equal(await pathAfterReload(page), '/account/password', 'and kept this one');

    assert.deepEqual(violations, []);
    assert.deepEqual(problems, [], 'no console errors or CSP violations');
  });
}
