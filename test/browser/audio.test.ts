/// <reference lib="dom" />
/**
 * The audio captcha in Chromium: Listen plays the sound of the picture's challenge in the
 * page's language, says so, keeps the focus in the answer field, and a new picture stops
 * it and brings the new challenge's sound.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page, Response } from 'playwright-core';
import { build } from '../helpers/build.js';
import { openInBrowser, waitForCaptcha, waitForNewCaptcha } from '../helpers/browser.js';

const audioState = (page: Page) =>
  page.$eval('#captcha-audio', (element) => {
    const audio = element as HTMLAudioElement;
    return { paused: audio.paused, src: audio.getAttribute('src'), status: document.querySelector('#captcha-audio-status')?.textContent ?? '' };
  });

/** Presses Listen and waits until the sound plays. */
async function play(page: Page): Promise<void> {
  await page.click('#captcha-listen');
  await page.waitForFunction(() => {
    const audio = document.querySelector<HTMLAudioElement>('#captcha-audio');
    return audio !== null && !audio.paused && audio.currentTime > 0;
  });
}

/** Presses Listen and returns the sound the browser fetched, once it is playing. */
async function listen(page: Page): Promise<Response> {
  const [sound] = await Promise.all([page.waitForResponse((res) => new URL(res.url()).pathname === '/get_validCode_audio'), play(page)]);
  return sound;
}

test("Listen plays the picture's challenge, and a new picture brings a new sound", async (t) => {
  const app = await build(t);
  const { base, page } = await openInBrowser(t, app);
  await page.goto(`${base}/login`);
  await waitForCaptcha(page);

  const first = await listen(page);
  assert.equal(first.status(), 200);
  assert.equal(first.headers()['content-type'], 'audio/wav');
  assert.equal(new URL(first.url()).searchParams.get('lang'), 'en');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'captcha', 'the focus stays in the answer field');
  assert.equal((await audioState(page)).status, 'Playing…');
  assert.equal(app.answers.length, 1, 'listening made no new answer');
  const firstSound = await first.body();
  const again = await page.request.get(first.url());
  assert.deepEqual(await again.body(), firstSound, 'the same challenge gives the same bytes');

  await page.waitForFunction(() => document.querySelector<HTMLAudioElement>('#captcha-audio')?.ended);
  assert.match((await audioState(page)).status, /^Finished/);

  const fetched: string[] = [];
  page.on('request', (request) => fetched.push(new URL(request.url()).pathname));
  await play(page);
  assert.deepEqual(fetched, [], 'Listen again replays the sound it has');
  const picture = (await page.getAttribute('#captcha-image', 'src')) ?? '';
  await page.click('#captcha-refresh');
  await waitForNewCaptcha(page, picture);
  assert.deepEqual(await audioState(page), { paused: true, src: null, status: '' }, 'a new picture stops and drops the sound');

  const next = await listen(page);
  assert.notDeepEqual(await next.body(), firstSound, "the new picture's sound");
  assert.equal(app.answers.length, 2);
});

test('a Chinese page speaks Chinese', async (t) => {
  const app = await build(t);
  const { base, page } = await openInBrowser(t, app, { locale: 'zh-CN' });
  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  const sound = await listen(page);
  const url = new URL(sound.url());
  assert.equal(url.searchParams.get('lang'), 'zh-CN');
  assert.equal((await audioState(page)).status, '正在播放…');
  url.searchParams.set('lang', 'en');
  const english = await page.request.get(url.toString());
  assert.equal(english.status(), 200);
  assert.notDeepEqual(await english.body(), await sound.body(), 'the Chinese recording, not the English one');
});

test('a sound that failed to load is fetched again at the next Listen, not replayed', async (t) => {
  // One picture or sound a minute: the page's picture takes it, so the sound gets a 429.
  const app = await build(t, { ipRateLimits: { imagesPerMinute: 1 } });
  const { base, page } = await openInBrowser(t, app);
  await page.goto(`${base}/login`);
  await waitForCaptcha(page);
  const refusedSound = async (): Promise<void> => {
    const [sound] = await Promise.all([
      page.waitForResponse((res) => new URL(res.url()).pathname === '/get_validCode_audio'),
      page.click('#captcha-listen'),
    ]);
    assert.equal(sound.status(), 429);
    await page.waitForFunction(() => document.querySelector('#captcha-audio-status')?.classList.contains('text-danger'));
  };
  await refusedSound();
  // Without forgetting the failed sound, this click would replay it and ask for nothing.
  await refusedSound();
});
