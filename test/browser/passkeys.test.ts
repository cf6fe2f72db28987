/// <reference lib="dom" />
/**
 * Passkeys end to end in Debian's Chromium, with a virtual platform authenticator (CDP
 * WebAuthn domain) standing in for the person's device: sign up, add a passkey from home,
 * sign out, sign in with it (no password, no captcha), remove it, and it no longer signs in;
 * and the browser's autofill (conditional mediation) signs in by itself.
 *
 * The virtual authenticator answers every request at once, a conditional one too (as if
 * the person picked the suggested passkey), so the button test takes conditional
 * mediation away from the page, as in a browser without passkey autofill.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { build, type TestApp } from '../helpers/build.js';
import { addVirtualAuthenticator, openInBrowser, waitForCaptcha } from '../helpers/browser.js';

/** Signs up in the page and lands on home. */
async function signUp(page: Page, base: string, app: TestApp, username: string): Promise<void> {
  await page.goto(`${base}/register`);
  await waitForCaptcha(page);
  await page.fill('#username', username);
  await page.fill('#password', 'violet kettle drums at midnight');
  // The strength hint's post is answered first: one still running when the sign-up's new
  // session cookie arrives would set the old one again (a race of the page, not of passkeys).
  await page.waitForSelector('#password-strength.text-success');
  await page.fill('#captcha', app.answers.at(-1) as string);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
}

test('a person adds a passkey, signs in with it without the captcha, removes it, and it no longer signs in', async (t) => {
  const app = await build(t);
  const { base, page } = await openInBrowser(t, app, { localhost: true, height: 900 });
  const authenticator = await addVirtualAuthenticator(page);
  const problems: string[] = [];
  page.on('console', (message) => {
    // The last sign-in, with the removed passkey, is an expected 401.
    if (message.type() === 'error' && !message.text().includes('status of 401')) problems.push(message.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });

  await signUp(page, base, app, 'grace');
  assert.equal(await page.isVisible('#passkeys-none'), true, 'no passkeys yet');
  assert.equal(await page.isVisible('#passkey-list'), false);

  await page.fill('#passkey-name', 'Laptop');
  await page.click('#passkey-add');
  await page.waitForSelector('#passkey-list .passkey');
  assert.match((await page.textContent('#passkey-status')) ?? '', /Passkey "Laptop" added\./);
  assert.equal((await page.textContent('#passkey-list .passkey-name'))?.trim(), 'Laptop');
  assert.match((await page.textContent('#passkey-list .passkey')) ?? '', /Last used: not yet/);
  assert.equal(await page.isVisible('#passkeys-none'), false);
  assert.equal(await page.inputValue('#passkey-name'), '', 'the name field is emptied for the next one');
  const [credential, ...others] = await authenticator.credentials();
  assert.ok(credential?.isResidentCredential, 'a discoverable credential (signs in without a username)');
  assert.equal(others.length, 0);
  const user = await app.stores.users.findByUsername('grace');
  assert.deepEqual((await app.stores.passkeys.listFor(user?.id ?? -1)).map((passkey) => passkey.name), ['Laptop'], 'stored through the storage layer');

  await Promise.all([page.waitForURL(`${base}/login`), page.click('#sign-out')]);
  await waitForCaptcha(page);
  assert.equal(await page.getAttribute('#username', 'autocomplete'), 'username webauthn', "the browser's autofill may offer passkeys");
  const answersBefore = app.answers.length;
  await Promise.all([page.waitForURL(`${base}/`), page.click('#passkey-sign-in')]);
  assert.match((await page.textContent('#greeting')) ?? '', /Hello, grace!/, 'signed in with the passkey alone');
  assert.equal(app.answers.length, answersBefore, 'no captcha was needed');
  assert.doesNotMatch((await page.textContent('#passkey-list .passkey')) ?? '', /not yet/, 'the last use is shown');

  await page.click('.passkey-remove');
  await page.waitForSelector('#passkeys-none:not([hidden])');
  assert.match((await page.textContent('#passkey-status')) ?? '', /Passkey "Laptop" removed\./);
  assert.equal(await page.evaluate(() => document.activeElement?.closest('#passkey-status') !== null), true, 'the focus is on the message');
  assert.equal(await page.isVisible('#passkey-list'), false);

  await Promise.all([page.waitForURL(`${base}/login`), page.click('#sign-out')]);
  await waitForCaptcha(page);
  await page.click('#passkey-sign-in');
  await page.waitForSelector('#form-status .alert-danger');
  assert.match((await page.textContent('#form-status')) ?? '', /That passkey did not sign you in/);
  assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('#form-status .alert')), true);
  assert.equal(new URL(page.url()).pathname, '/login', 'still signed out');
  assert.equal((await authenticator.credentials()).length, 1, 'the device still holds it; the server no longer accepts it');
  assert.deepEqual(problems, [], 'no console errors or CSP violations');
});

test("the browser's passkey autofill on the username field signs in", async (t) => {
  const app = await build(t);
  const { base, page } = await openInBrowser(t, app, { localhost: true });
  await addVirtualAuthenticator(page);
  await signUp(page, base, app, 'heidi');
  await page.click('#passkey-add');
  await page.waitForSelector('#passkey-list .passkey');
  await page.waitForSelector('#passkey-list .passkey');
  assert.equal((await page.textContent('#passkey-list .passkey-name'))?.trim(), 'Passkey 1', 'an unnamed passkey gets a name');

  await page.click('#sign-out');
  await page.waitForURL(`${base}/login`);
  // Nothing pressed: the conditional request started at load is answered by the authenticator.
  await page.waitForURL(`${base}/`);
  assert.match((await page.textContent('#greeting')) ?? '', /Hello, heidi!/);
});
