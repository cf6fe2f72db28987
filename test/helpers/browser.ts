/// <reference lib="dom" />
/**
 * The browser tests' shared steps: serve a built app on a free port and open it in Debian's
 * Chromium through playwright-core (both closed when the test ends), wait for the captcha
 * picture to show, and move through a page with the keyboard alone.
 */
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type CDPSession, type Page } from 'playwright-core';
import { ROOT_DIR } from '../../src/paths.js';
import assert from 'node:assert/strict';
import { serve, type TestApp } from './build.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
export const SCREENSHOT_DIR = path.join(ROOT_DIR, 'test-output');

export interface BrowserOptions {
  height?: number;
  /** The browser's language (Accept-Language); en-US unless a test is about another. */
  locale?: string;
  /**
   * Open the app as http://localhost:<port> instead of 127.0.0.1: WebAuthn treats
   * localhost as a secure context, and an RP ID must be a host name, not an IP address.
   */
  localhost?: boolean;
  /** The browser's time zone (IANA name); the machine's unless a test is about another. */
  timezoneId?: string;
}

/** Serves the app on a free port and opens a Chromium page; both close after the test. */
export async function openInBrowser(t: TestContext, app: TestApp, options: BrowserOptions = {}): Promise<{ base: string; page: Page }> {
  const served = await serve(t, app);
  const base = options.localhost ? served.replace('//127.0.0.1:', '//localhost:') : served;
  // Debian's Chromium now and then dies while it starts, under a loaded machine (seen once
  // in a full run: "Target page, context or browser has been closed" at the first page):
  // a browser that cannot open a blank page is replaced, once, before the test uses it.
  for (let launch = 1; ; launch += 1) {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    t.after(() => browser.close());
    // An explicit context (not browser.newPage()) lets axe open its own frames. Reduced
    // motion turns Bootstrap's transitions off, so screenshots and contrast checks never
    // catch a colour half-way.
    try {
      const context = await browser.newContext({
        viewport: { width: 900, height: options.height ?? 720 },
        locale: options.locale ?? 'en-US',
        ...(options.timezoneId === undefined ? {} : { timezoneId: options.timezoneId }),
        reducedMotion: 'reduce',
      });
      const page = await context.newPage();
      await page.goto('about:blank');
      return { base, page };
    } catch (err) {
      if (launch >= 2 || browser.isConnected()) throw err;
      t.diagnostic(`Chromium closed while starting (${(err as Error).message.split('\n')[0] ?? ''}); starting another`);
    }
  }
}

export async function captchaState(page: Page) {
  return page.$eval('#captcha-image', (img) => {
    const image = img as HTMLImageElement;
    return { src: image.getAttribute('src') ?? '', width: image.naturalWidth, complete: image.complete };
  });
}

/** Waits until the captcha picture has loaded. */
export async function waitForCaptcha(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector<HTMLImageElement>('#captcha-image')?.naturalWidth === 270);
}

/** Waits until the captcha image shows a picture other than `previousSrc`. */
export async function waitForNewCaptcha(page: Page, previousSrc: string): Promise<string> {
  await page.waitForFunction((before) => {
    const image = document.querySelector<HTMLImageElement>('#captcha-image');
    return image !== null && image.getAttribute('src') !== before && image.complete && image.naturalWidth === 270;
  }, previousSrc);
  return (await captchaState(page)).src;
}

export interface VirtualAuthenticator {
  cdp: CDPSession;
  authenticatorId: string;
  /** The credentials (passkeys) it holds. */
  credentials: () => Promise<Array<{ credentialId: string; signCount: number; isResidentCredential: boolean }>>;
}

/**
 * Gives the page a platform authenticator through the Chrome DevTools Protocol's WebAuthn
 * domain: CTAP2, built in, keeps discoverable credentials, verifies the user, and answers
 * every prompt by itself (as if the person touched it).
 */
export async function addVirtualAuthenticator(page: Page): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    cdp,
    authenticatorId,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}

/** The focused element's id (or, without one, its class list). */
export const focused = (page: Page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.className || '');

/** Presses Tab (or Shift+Tab) once; the focus must land on #expected. */
export async function tab(page: Page, key: 'Tab' | 'Shift+Tab', expected: string): Promise<void> {
  await page.keyboard.press(key);
  assert.equal(await focused(page), expected, `${key} should reach #${expected}`);
}

/** Presses Tab from where the focus is until it reaches #id, within a few presses (the header's and the account menu's links come first). */
export async function tabTo(page: Page, id: string): Promise<void> {
  for (let presses = 0; presses < 12 && (await focused(page)) !== id; presses += 1) await page.keyboard.press('Tab');
  assert.equal(await focused(page), id, `Tab should reach #${id}`);
}
