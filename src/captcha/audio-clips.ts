/**
 * The audio captcha's spoken characters: audio/<locale>/<character>.wav, one for each
 * character of CAPTCHA_ALPHABET in each page language, made by
 * scripts/make-audio-clips.ts with espeak-ng and committed. They are read when the app
 * is built, so a missing or malformed clip stops the app then, not a listener later.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAPTCHA_ALPHABET } from './code.js';
import { decodeWav } from './wav.js';

/** src/captcha/ (or dist/captcha/) → repository root → audio/, wherever it is checked out. */
export const AUDIO_CLIPS_DIR = fileURLToPath(new URL('../../audio/', import.meta.url));
/** The languages recorded in audio/ (the app's AppDeps type asks for one per page language). */
export const AUDIO_LOCALES = ['en', 'zh-CN'] as const;
export type AudioLocale = (typeof AUDIO_LOCALES)[number];
/** 16 kHz keeps the hiss of s, x and ch (up to 8 kHz) that tells letter names apart. */
export const AUDIO_SAMPLE_RATE = 16_000;

/** Character → its samples at AUDIO_SAMPLE_RATE. */
export type ClipSet = ReadonlyMap<string, Int16Array>;

export function loadAudioClips(folder = AUDIO_CLIPS_DIR): Record<AudioLocale, ClipSet> {
  const load = (locale: AudioLocale): ClipSet =>
    new Map(
      [...CAPTCHA_ALPHABET].map((character) => {
        const file = path.join(folder, locale, `${character}.wav`);
        if (!existsSync(file)) throw new Error(`${file} is missing: run npx tsx scripts/make-audio-clips.ts`);
        const { sampleRate, samples } = decodeWav(readFileSync(file), file);
        if (sampleRate !== AUDIO_SAMPLE_RATE) throw new Error(`${file}: ${sampleRate} Hz, expected ${AUDIO_SAMPLE_RATE}`);
        return [character, samples];
      }),
    );
  return Object.fromEntries(AUDIO_LOCALES.map((locale) => [locale, load(locale)])) as Record<AudioLocale, ClipSet>;
}
