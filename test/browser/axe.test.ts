/// <reference lib="dom" />
/**
 * axe-core over every page and state of the app, in English and in Chinese: sign-in,
 * sign-up (with the strength hint), sign-in in attack mode (the browser check done, and
 * waited for), a sign-in error, a picture that failed to load, the
 * audio playing and the audio failing, home without and with a passkey (added through a
 * virtual authenticator) and with recent activity, adding one refused for want of a recent sign-in, a passkey
 * sign-in refused, two-step verification (off, set-up, a wrong first code, the recovery
 * codes, on, a change refused for want of a recent sign-in) and the sign-in's code step
 * (asked, a wrong code, a recovery code), and a 404 page. Each must have no violation
 * of WCAG 2.0, 2.1 and 2.2 A and AA rules. Saves a screenshot of each state to
 * test-output/a11y/ (the pictures in docs/images/ come from there).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page, Route } from 'playwright-core';
import { build } from '../helpers/build.js';
import { ATTACK_OFF, ATTACK_ON, fixedAttackMode } from '../helpers/pow.js';
import { SCREENSHOT_DIR, addVirtualAuthenticator, openInBrowser, waitForCaptcha } from '../helpers/browser.js';
import { codeAt } from '../helpers/two-factor.js';
import { RECENT_SIGN_IN_MS } from '../../src/session/timeouts.js';

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const A11Y_DIR = path.join(SCREENSHOT_DIR, 'a11y');

/** Runs axe on the page as it is; returns "state: rule (n nodes)" for each violation. */
async function audit(page: Page, state: string): Promise<string[]> {
  await page.mouse.move(0, 0); // the state at rest, not under the pointer
  mkdirSync(A11Y_DIR, { recursive: true });
  await page.screenshot({ path: path.join(A11Y_DIR, `${state}.png`), fullPage: true });
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  return violations.map((v) => `${state}: ${v.id} (${v.nodes.length}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

for (const locale of ['en', 'zh-CN'] as const) {
  test(`axe finds no WCAG A/AA violation on any page or state, ${locale}`, async (t) => {
    const attackMode = fixedAttackMode(ATTACK_OFF);
    const app = await build(t, { attackMode });
    await app.createUser('alice', 'correct horse battery');
    const { base, page } = await openInBrowser(t, app, { locale, height: 820, localhost: true });
    await addVirtualAuthenticator(page);
    // Without the browser's passkey autofill, which the virtual authenticator would answer at once.
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    const violations: string[] = [];
    const check = async (state: string) => violations.push(...(await audit(page, `${locale}-${state}`)));

    await page.goto(`${base}/register`);
    await waitForCaptcha(page);
    assert.equal(await page.getAttribute('html', 'lang'), locale);
    await page.fill('#password', 'password1');
    await page.waitForSelector('#password-strength.text-danger');
    await check('sign-up');

    await page.goto(`${base}/login`);
    await waitForCaptcha(page);
    await check('sign-in');

    attackMode.set(ATTACK_ON);
    // The challenge is held, so the page shows the state of a person waiting for the check.
    let held: Route | undefined;
    await page.route('**/pow-challenge', (route) => void (held = route));
    await page.goto(`${base}/login`);
    await waitForCaptcha(page);
    await page.click('#submit');
    await page.waitForSelector('#pow-status:not(:empty)');
    await check('sign-in-attack-mode-waiting');
    await held?.continue();
    await page.unroute('**/pow-challenge');
    await page.waitForSelector('#form-status .alert-danger');
    await check('sign-in-attack-mode-done');
    attackMode.set(ATTACK_OFF);
    await page.goto(`${base}/login`);
    await waitForCaptcha(page);

    await page.click('#captcha-listen');
    await page.waitForFunction(() => !document.querySelector<HTMLAudioElement>('#captcha-audio')?.paused);
    await page.waitForSelector('#captcha-audio-status:not(:empty)');
    await check('audio-playing');

    // The server refuses the next picture and sound, as the per-IP limit would.
    await page.route('**/get_validCode_*', (route) => route.fulfill({ status: 429, contentType: 'application/json', body: '{}' }));
    await page.click('#captcha-refresh');
    await page.waitForSelector('#form-status .captcha-image-error');
    await check('picture-failed');
    await page.click('#captcha-listen');
    await page.waitForSelector('#captcha-audio-status.text-danger');
    await check('audio-failed');
    await page.unroute('**/get_validCode_*');

    await page.fill('#username', 'alice');
    await page.fill('#password', 'correct horse battery');
    await page.fill('#captcha', 'ZZZZZ');
    await page.click('#submit');
    await page.waitForSelector('#form-status .alert-danger:not(.captcha-image-error)');
    await waitForCaptcha(page);
    await check('sign-in-error');

    await page.fill('#password', 'correct horse battery');
    await page.fill('#captcha', app.answers.at(-1) as string);
    await Promise.all([page.waitForURL(`${base}/`), page.click('#submit')]);
    await check('home');

    await page.goto(`${base}/account/two-factor`);
    await check('two-factor-off');
    await page.click('#totp-start');
    await page.waitForSelector('#totp-qr');
    await check('two-factor-enrol');
    const secret = (await page.getAttribute('#totp-secret', 'data-secret')) ?? '';
    const right = codeAt(secret, app.clock.now());
    await page.fill('#totp-code', right === '000000' ? '111111' : '000000');
    await page.click('#totp-confirm');
    await page.waitForSelector('#two-factor-status .alert-danger');
    await check('two-factor-enrol-error');
    await page.fill('#totp-code', right);
    await page.click('#totp-confirm');
    await page.waitForSelector('#totp-recovery-codes');
    await check('two-factor-recovery-codes');
    await Promise.all([page.waitForURL(`${base}/account/two-factor`), page.click('#totp-codes-done')]);
    await check('two-factor-on');
    await page.goto(`${base}/`);

    await page.fill('#passkey-name', locale === 'en' ? 'Laptop' : '笔记本电脑');
    await page.click('#passkey-add');
    await page.waitForSelector('#passkey-list .passkey');
    await check('home-passkeys');

    // Recent activity with a row of each look: a failed guess, the lock it began, an operator's action.
    const user = await app.stores.users.findByUsername('alice');
    for (const [kind, detail, network] of [
      ['sign_in_failed', 'password', '198.51.100.0/24'],
      ['lockout', 'network', '198.51.100.0/24'],
      ['account_unlocked', undefined, undefined],
    ] as const) {
      await app.stores.activity.record({ userId: user?.id ?? -1, kind, at: app.clock.now(), network, detail });
    }
    await page.reload();
    await page.waitForSelector('#activity-list');
    await check('home-activity');

    // Adding once the sign-in is no longer recent: the message with its sign-in-again button.
    app.clock.advance(RECENT_SIGN_IN_MS + 1);
    await page.click('#passkey-add');
    await page.waitForSelector('#passkey-status #passkey-reauth');
    await check('home-reauth');
    await page.goto(`${base}/account/two-factor`);
    await page.click('#totp-disable');
    await page.waitForSelector('#two-factor-status #totp-reauth');
    await check('two-factor-reauth');
    await page.goto(`${base}/`);

    // A passkey the server no longer knows is refused with a message that takes the focus.
    const alice = await app.stores.users.findByUsername('alice');
    for (const passkey of await app.stores.passkeys.listFor(alice?.id ?? -1)) await app.stores.passkeys.remove(passkey.userId, passkey.id);
    await Promise.all([page.waitForURL(`${base}/login`), page.click('#sign-out')]);
    await waitForCaptcha(page);
    await page.click('#passkey-sign-in');
    await page.waitForSelector('#form-status .alert-danger');
    await check('passkey-refused');

    await page.fill('#username', 'alice');
    await page.fill('#password', 'correct horse battery');
    await page.fill('#captcha', app.answers.at(-1) as string);
    await page.click('#submit');
    await page.waitForSelector('#code-form:not([hidden])');
    await check('sign-in-code-step');
    await page.fill('#code', '12345');
    await page.click('#code-submit');
    await page.waitForSelector('#code-status .alert-danger');
    await check('sign-in-code-error');
    await page.click('#code-switch');
    await check('sign-in-recovery-code');

    const missing = await page.goto(`${base}/no-such-page`);
    assert.equal(missing?.status(), 404);
    await check('not-found');

    assert.deepEqual(violations, []);
  });
}
