/**
 * Fonts bundled for the captcha renderer.
 *
 * The renderer must not depend on what happens to be installed on the host: a different
 * fallback font would change how hard the captcha is and break byte-identical seeded
 * renders. So the font files live in the repository's fonts/ folder (licences next to
 * them) and are registered with canvas under family names of our own, which cannot
 * collide with a system font of the same name.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerFont } from 'canvas';

/**
 * Family names the renderer may pick from, one per bundled file. Six styles (plain
 * and serif, hand-drawn, geometric, rough, slab) because a reader trained on samples has
 * to learn every style of every character, while a person reads them all. Dropped: a
 * very heavy rounded face (under the warp its P and R closed up) and a scribbled one
 * (blind panels misread its open 4 and hooked N).
 */
export const CAPTCHA_FONT_FAMILIES = [
  'CaptchaSans',
  'CaptchaSerif',
  'CaptchaHand',
  'CaptchaGeometric',
  'CaptchaRough',
  'CaptchaSlab',
] as const;

export type CaptchaFontFamily = (typeof CAPTCHA_FONT_FAMILIES)[number];

const FONT_FILES: Readonly<Record<CaptchaFontFamily, string>> = {
  CaptchaSans: 'LiberationSans-Bold.ttf',
  CaptchaSerif: 'LiberationSerif-Bold.ttf',
  CaptchaHand: 'ComicNeue-Bold.otf',
  CaptchaGeometric: 'LeagueSpartan-Bold.otf',
  CaptchaRough: 'AveriaSerifGWF-Bold.ttf',
  CaptchaSlab: 'CourierPrime-Bold.otf',
};

/** src/captcha/ → repository root → fonts/, wherever the repository is checked out. */
const FONTS_DIRECTORY = new URL('../../fonts/', import.meta.url);

let registered = false;

/**
 * Registers the bundled fonts with canvas. Safe to call more than once; it has to run
 * before the first canvas is created, because pango only reads fonts at that point.
 */
export function registerCaptchaFonts(): void {
  if (registered) return;
  for (const family of CAPTCHA_FONT_FAMILIES) {
    const path = fileURLToPath(new URL(FONT_FILES[family], FONTS_DIRECTORY));
    if (!existsSync(path)) throw new Error(`captcha font file is missing: ${path}`);
    registerFont(path, { family });
  }
  registered = true;
}

/** Whether registerCaptchaFonts() has run: without it, pango would silently draw in a fallback font. */
export function captchaFontsRegistered(): boolean {
  return registered;
}
