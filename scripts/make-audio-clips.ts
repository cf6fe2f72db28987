/**
 * Makes the audio captcha's clips: one WAV per character of CAPTCHA_ALPHABET per page
 * language, in audio/<locale>/<character>.wav, spoken by Debian's espeak-ng and cut and
 * levelled by sox. The clips are committed; the server only mixes them (src/captcha/audio.ts),
 * so neither tool is needed to run or test the app. Rerun after changing the alphabet:
 *
 *   apt-get install -y espeak-ng sox && npx tsx scripts/make-audio-clips.ts
 *
 * English reads letters by their names and digits as numbers (en-us voice). Chinese reads
 * digits as Chinese numbers, and letters the way Chinese speakers say English letter names
 * (A "ei", H "ai chi", W "da bu liu"), written in pinyin with tones for espeak-ng's
 * Mandarin voice, which reads pinyin reliably (its hanzi dictionary is partial).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AUDIO_CLIPS_DIR, AUDIO_SAMPLE_RATE } from '../src/captcha/audio-clips.js';
import { CAPTCHA_ALPHABET } from '../src/captcha/code.js';
import { LOCALES, type Locale } from '../src/i18n/messages.js';

/** The letters' names as Chinese speakers say them; 1 as "yao", as in codes and phone numbers. */
const PINYIN: Record<string, string> = {
  A: 'ei1', B: 'bi4', C: 'xi1', D: 'di4', E: 'yi4', F: 'ai4 fu2', G: 'ji4', H: 'ai4 chi3',
  I: 'ai4', J: 'jie2', K: 'kai1', L: 'ai4 le4', M: 'ai4 mu3', N: 'en1', O: 'ou1', P: 'pi1',
  Q: 'qiu1', R: 'a1 er3', S: 'ai4 si1', T: 'ti1', U: 'you1', V: 'wei1', W: 'da2 bu4 liu1',
  X: 'ai4 ke4 si1', Y: 'wai1', Z: 'zei2 de2',
  0: 'ling2', 1: 'yao1', 2: 'er4', 3: 'san1', 4: 'si4', 5: 'wu3', 6: 'liu4', 7: 'qi1', 8: 'ba1', 9: 'jiu3',
};

const VOICES: Record<Locale, { voice: string; text: (character: string) => string }> = {
  en: { voice: 'en-us', text: (character) => character },
  'zh-CN': {
    voice: 'cmn-latn-pinyin',
    text: (character) => {
      const pinyin = PINYIN[character];
      if (!pinyin) throw new Error(`no Chinese reading for "${character}": add it to PINYIN`);
      return pinyin;
    },
  },
};

function run(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${command} is not installed: apt-get install -y espeak-ng sox`);
    }
    throw err;
  }
}

const work = mkdtempSync(path.join(tmpdir(), 'audio-clips-'));
try {
  for (const locale of LOCALES) {
    const { voice, text } = VOICES[locale];
    const folder = path.join(AUDIO_CLIPS_DIR, locale);
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    for (const character of CAPTCHA_ALPHABET) {
      const spoken = path.join(work, 'spoken.wav');
      run('espeak-ng', ['-v', voice, '-s', '150', '-w', spoken, text(character)]);
      // Mono 16-bit at the mixer's rate; leading and trailing silence cut (the mixer sets
      // the gaps); peak at -3 dBFS, leaving headroom for the background babble.
      run('sox', [
        spoken, '-r', String(AUDIO_SAMPLE_RATE), '-b', '16', '-c', '1', '-e', 'signed-integer',
        path.join(folder, `${character}.wav`),
        'silence', '1', '0.01', '1%', 'reverse', 'silence', '1', '0.01', '1%', 'reverse', 'gain', '-n', '-3',
      ]);
    }
    console.log(`${folder}: ${CAPTCHA_ALPHABET.length} clips`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
