/// <reference lib="dom" />
/**
 * Signing in with the keyboard alone, in Chromium: the Tab order of the form, Listen and
 * New picture by key, Enter to submit, and after a miss the focus on the message and an
 * empty answer field; and adding, using and removing a passkey the same way, and signing
 * in again when adding one needs a recent sign-in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { addVirtualAuthenticator, openInBrowser, waitForCaptcha, waitForNewCaptcha, focused, tab, tabTo } from '../helpers/browser.js';
import { RECENT_SIGN_IN_MS } from '../../src/session/timeouts.js';

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

test('a person adds a passkey, signs in with it and removes it, with the keyboard alone', async (t) => {
  const app = await build(t);
  await app.createUser('alice', 'correct horse battery');
  const { base, page } = await openInBrowser(t, app, { localhost: true });
  const authenticator = await addVirtualAuthenticator(page);
  // Without the browser's passkey autofill, which the virtual authenticator would answer at once.
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  await page.keyboard.type('alice');
  await tab(page, 'Tab', 'password');
  await page.keyboard.type('correct horse battery');
  await tab(page, 'Tab', 'captcha');
  await page.keyboard.type(app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.keyboard.press('Enter')]);

  // Home: from the top of the page, the sign-out button, the account security summary's
  // links, then the new passkey's name and the add button.
  await tabTo(page, 'sign-out');
  for (const id of ['security-two-factor-link', 'security-sessions-link', 'security-password-link', 'passkey-name']) await tab(page, 'Tab', id);
  await page.keyboard.type('Laptop');
  await tab(page, 'Tab', 'passkey-add');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#passkey-list .passkey');
  assert.match((await page.textContent('#passkey-status')) ?? '', /Passkey "Laptop" added\./);
  assert.equal(await focused(page), 'passkey-add', 'the focus stays on the button');
  assert.equal((await authenticator.credentials()).length, 1);

  // Back past the new passkey's Remove to sign out; on the sign-in page the passkey button comes just before the username.
  await tab(page, 'Shift+Tab', 'passkey-name');
  await page.keyboard.press('Shift+Tab');
  assert.match(await focused(page), /passkey-remove/);
  for (const id of ['security-password-link', 'security-sessions-link', 'security-two-factor-link', 'sign-out']) await tab(page, 'Shift+Tab', id);
  await Promise.all([page.waitForURL(`${base}/login`), page.keyboard.press('Enter')]);
  await waitForCaptcha(page);
  assert.equal(await focused(page), 'username');
  await tab(page, 'Shift+Tab', 'passkey-sign-in');
  await Promise.all([page.waitForURL(`${base}/`), page.keyboard.press('Enter')]);
  assert.match((await page.textContent('#greeting')) ?? '', /Hello, alice!/);

  // The remove button sits between the summary's last link and the name field; after it, the focus is on the message.
  await tabTo(page, 'security-password-link');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('passkey-remove')), true, 'Tab reaches Remove');
  assert.match((await page.evaluate(() => document.activeElement?.textContent)) ?? '', /Remove\s+Laptop/, 'its name says which passkey');
  await page.keyboard.press('Space');
  await page.waitForSelector('#passkeys-none:not([hidden])');
  assert.equal(await page.evaluate(() => document.activeElement?.closest('#passkey-status') !== null), true);
  assert.match((await page.evaluate(() => document.activeElement?.textContent)) ?? '', /Passkey "Laptop" removed\./);

  // Once the sign-in is no longer recent, adding asks for a new one: the focus goes to the
  // message, and Tab to its button, which signs out (a POST) for the person to sign in again.
  app.clock.advance(RECENT_SIGN_IN_MS + 1);
  await tab(page, 'Tab', 'passkey-name');
  await tab(page, 'Tab', 'passkey-add');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#passkey-status .alert-danger');
  assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('#passkey-status .alert')), true, 'the focus is on the message');
  assert.match((await page.textContent('#passkey-status')) ?? '', /For your security, sign in again to add a passkey\./);
  await tab(page, 'Tab', 'passkey-reauth');
  await Promise.all([page.waitForURL(`${base}/login`), page.keyboard.press('Enter')]);
  await waitForCaptcha(page);
  assert.equal((await authenticator.credentials()).length, 1, 'no new credential was made');
});
