/**
 * The sound's rows of `npm run bench`: captcha sounds per second on one thread (so per
 * core), as production runs them (dist/), for a challenge's first download (mixed) and for
 * every later one (kept, src/captcha/sound-cache.ts). Each row is measured in two halves,
 * in the order A B B A, so drift lands on both; bench.ts sets them beside the picture's.
 */
import { existsSync } from 'node:fs';
import type { Request } from 'express';

export interface SoundRow {
  name: string;
  soundsPerSecond: number;
  msPerSound: number;
  avgWavBytes: number;
}

/** Runs `make` `count` times; returns the time and bytes in all. */
function time(make: () => number, count: number): { ms: number; bytes: number } {
  let bytes = 0;
  const started = performance.now();
  for (let i = 0; i < count; i += 1) bytes += make();
  return { ms: performance.now() - started, bytes };
}

export async function benchSounds(mixes: number): Promise<SoundRow[]> {
  const dist = new URL('../dist/captcha/', import.meta.url);
  if (!existsSync(new URL('index.js', dist))) throw new Error('dist/ is missing: run npm run build (npm run bench does)');
  const entry = (await import(new URL('index.js', dist).href)) as typeof import('../src/captcha/index.js');
  const audio = (await import(new URL('audio.js', dist).href)) as typeof import('../src/captcha/audio.js');
  const code = (await import(new URL('code.js', dist).href)) as typeof import('../src/captcha/code.js');
  entry.registerCaptchaFonts();
  const clips = entry.loadAudioClips();
  const answer = code.createCodeGenerator();
  let challenge = 0;
  // A new challenge id each time, as each new picture's first "Listen" is.
  const mixed = () => audio.renderCaptchaAudio(answer(), clips.en, audio.soundRandom(`bench-${(challenge += 1)}`)).length;
  const captcha = entry.createCaptcha({ ledger: entry.memoryLedger(), audioClips: clips });
  const req = { session: {} } as unknown as Request;
  await captcha.issue(req, 'page');
  const kept = () => {
    const heard = captcha.audio(req, 'page', 'en');
    if (!heard.ok) throw new Error(`the bench challenge is ${heard.reason}`);
    return heard.wav.length;
  };

  // Kept sounds cost microseconds: many more of them give the timer something to measure.
  const rows: Array<[string, () => number, number]> = [
    ['sound, mixed (first download of a challenge)', mixed, mixes],
    ['sound, kept (every later download)', kept, 100 * mixes],
  ];
  for (const [, make] of rows) time(make, 30);
  const totals = rows.map(() => ({ ms: 0, bytes: 0, count: 0 }));
  for (const index of [0, 1, 1, 0]) {
    const [, make, count] = rows[index] as [string, () => number, number];
    const { ms, bytes } = time(make, count);
    const total = totals[index] as { ms: number; bytes: number; count: number };
    total.ms += ms;
    total.bytes += bytes;
    total.count += count;
  }
  return rows.map(([name], index) => {
    const { ms, bytes, count } = totals[index] as { ms: number; bytes: number; count: number };
    return { name, soundsPerSecond: (count * 1000) / ms, msPerSound: ms / count, avgWavBytes: bytes / count };
  });
}
