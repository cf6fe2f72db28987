/// <reference lib="dom" />
/**
 * Two-step verification in Chromium, with the keyboard alone: enrol from the two-factor
 * page (the code computed with otpauth from the secret the page shows, as an
 * authenticator app would), keep the recovery codes, sign out, sign in with the password
 * and a code, then once more with a recovery code. No console error or CSP refusal on the
 * way. (axe's checks of these states are in axe.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { openInBrowser, waitForCaptcha, focused, tab, tabTo } from '../helpers/browser.js';
import { codeAt } from '../helpers/two-factor.js';

test('a person turns on two-step verification and signs in with a code, then with a recovery code, with the keyboard alone', async (t) => {
  const app = await build(t);
  await app.createUser('alice', 'correct horse battery');
  const { base, page } = await openInBrowser(t, app);
  const problems: string[] = [];
  page.on('console', (message) => {
    // The refused posts below (a wrong code) are expected 4xx answers; anything else is a problem.
    if (message.type() === 'error' && !/status of 40\d/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));

  /** Signs in with the password from the sign-in page; the code step must follow, its field focused. */
  const password = async () => {
    await page.goto(`${base}/login`);
    await waitForCaptcha(page);
    await page.keyboard.type('alice');
    await tab(page, 'Tab', 'password');
    await page.keyboard.type('correct horse battery');
    await tab(page, 'Tab', 'captcha');
    await page.keyboard.type(app.answers.at(-1) as string);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#code-form:not([hidden])');
    assert.equal(await page.isHidden('#auth-form'), true, 'the password step gives way');
    assert.equal(await focused(page), 'code', 'the focus is in the code field');
  };
  const signOut = async () => {
    await page.goto(`${base}/`);
    await Promise.all([page.waitForURL(`${base}/login`), page.click('#sign-out')]);
  };

  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse battery');
  await page.fill('#captcha', app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);

  // From home, the account menu's link to the two-factor page.
  for (let presses = 0; presses < 8 && (await page.evaluate(() => document.activeElement?.getAttribute('href'))) !== '/account/two-factor'; presses += 1) {
    await page.keyboard.press('Tab');
  }
  await Promise.all([page.waitForURL(`${base}/account/two-factor`), page.keyboard.press('Enter')]);
  await tabTo(page, 'totp-start');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#totp-qr');
  assert.equal(await focused(page), 'totp-enrol-heading', 'the focus moves to the new step');
  assert.equal(await page.$eval('#totp-qr', (img) => (img as HTMLImageElement).naturalWidth > 0), true, 'the QR code shows (CSP allows data:)');
  const secret = (await page.getAttribute('#totp-secret', 'data-secret')) ?? '';
  assert.equal((await page.textContent('#totp-secret'))?.replace(/ /g, ''), secret, 'the key is shown to type');
  assert.equal(await page.getAttribute('#totp-code', 'autocomplete'), 'one-time-code');
  assert.equal(await page.getAttribute('#totp-code', 'inputmode'), 'numeric');

  // A wrong code first: the message takes the focus; then the right one.
  await tab(page, 'Tab', 'totp-code');
  const right = codeAt(secret, app.clock.now());
  await page.keyboard.type(right === '000000' ? '111111' : '000000');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#two-factor-status .alert-danger');
  assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('#two-factor-status .alert')), true);
  await tabTo(page, 'totp-code');
  await page.fill('#totp-code', '');
  await page.keyboard.type(right);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#totp-recovery-codes');
  assert.equal(await focused(page), 'totp-codes-heading');
  assert.match((await page.textContent('#two-factor-status')) ?? '', /Two-step verification is on\./);
  const recoveryCodes = await page.$$eval('#totp-recovery-codes code', (codes) => codes.map((code) => code.textContent ?? ''));
  assert.equal(recoveryCodes.length, 10);
  await tab(page, 'Tab', 'totp-codes-done');
  await Promise.all([page.waitForURL(`${base}/account/two-factor`), page.keyboard.press('Enter')]);
  assert.match((await page.textContent('#two-factor-on')) ?? '', /Two-step verification is on, since/);

  // Sign out; sign in with the password and the next code from the app.
  await signOut();
  app.clock.advance(30_000);
  await password();
  await page.keyboard.type(codeAt(secret, app.clock.now()));
  await Promise.all([page.waitForURL(`${base}/`), page.keyboard.press('Enter')]);
  assert.match((await page.textContent('#greeting')) ?? '', /Hello, alice!/);

  // Once more with a recovery code: the switch makes the field one for letters, and back.
  await signOut();
  await password();
  await tab(page, 'Tab', 'code-submit');
  await tab(page, 'Tab', 'code-switch');
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), 'code');
  assert.equal(await page.textContent('#code-label'), 'Recovery code');
  assert.equal(await page.getAttribute('#code', 'inputmode'), 'text');
  await page.keyboard.type(recoveryCodes[0] ?? '');
  await Promise.all([page.waitForURL(`${base}/`), page.keyboard.press('Enter')]);
  assert.match((await page.textContent('#greeting')) ?? '', /Hello, alice!/);
  assert.equal((await app.stores.totp.find((await app.stores.users.findByUsername('alice'))!.id))?.recoveryCodesLeft, 9);

  assert.deepEqual(problems, []);
});
