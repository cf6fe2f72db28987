/**
 * Audio captcha mixer: answer + recorded characters + random source in, WAV out. Pure:
 * no I/O, no clock, so the same random source gives the same bytes. The server keys it
 * per challenge (soundRandom), so downloading one challenge many times and averaging
 * teaches nothing that one download does not.
 *
 * Model, after dchest/captcha's audio.go: the answer's characters are spoken one by one,
 * each resampled by its own random factor (faster and higher, or slower and lower), at
 * its own level, after a random gap. Under them runs a low babble of other characters'
 * clips, reversed and resampled, at random places, and a little white noise, so that the
 * quiet between characters does not mark where each one starts and the background has
 * the spectrum of speech. A person hears clear letters over a murmur.
 *
 * Steps: planCaptchaAudio() decides every placement, in a fixed order of draws;
 * mixCaptchaAudio() adds the resampled clips into one buffer and clips to 16 bits.
 */
import { createHash } from 'node:crypto';
import { AUDIO_SAMPLE_RATE, type ClipSet } from './audio-clips.js';
import { between, keyedRandom, pick, seededRandom, type RandomSource } from './random.js';
import { encodeWav } from './wav.js';

/**
 * The randomness of a challenge's sound, keyed by a hash of the challenge's random id: the
 * same for the challenge's whole life, unknowable without the id, unrelated to the answer.
 */
export function soundRandom(challengeId: string): RandomSource {
  return keyedRandom(createHash('sha256').update('captcha-login audio\0').update(challengeId).digest().subarray(0, 16));
}

/** The mix's constants; ranges are [min, max). */
export const AUDIO_MIX = {
  /** Silence (babble only) before the first character, ms. */
  leadMs: [400, 800],
  /** Between characters, ms. */
  gapMs: [250, 650],
  /** After the last character, ms. */
  tailMs: [300, 500],
  /** Resampling factor of a spoken character: > 1 is faster and higher. */
  speed: [0.88, 1.14],
  /** Gain of a spoken character (clips peak at -3 dBFS). */
  level: [0.75, 1],
  /** Background clips started per second of audio. */
  babblePerSecond: 8,
  babbleSpeed: [0.8, 1.4],
  babbleLevel: [0.05, 0.12],
  /** Peak of the white noise, as a fraction of full scale. */
  noiseLevel: 0.015,
} as const;

export interface AudioPlacement {
  character: string;
  /** First sample. */
  at: number;
  speed: number;
  level: number;
  reversed: boolean;
}

export interface AudioPlan {
  /** Samples in all. */
  length: number;
  /** The answer's characters, in order. */
  voices: AudioPlacement[];
  babble: AudioPlacement[];
}

const msToSamples = (ms: number) => Math.round((ms * AUDIO_SAMPLE_RATE) / 1000);
const resampledLength = (length: number, speed: number) => Math.floor(length / speed);

function clipOf(clips: ClipSet, character: string): Int16Array {
  const clip = clips.get(character);
  if (!clip) throw new RangeError(`no audio clip for "${character}"`);
  return clip;
}

export function planCaptchaAudio(answer: string, clips: ClipSet, random: RandomSource): AudioPlan {
  const voices: AudioPlacement[] = [];
  let at = msToSamples(between(random, ...AUDIO_MIX.leadMs));
  for (const [index, character] of [...answer].entries()) {
    if (index > 0) at += msToSamples(between(random, ...AUDIO_MIX.gapMs));
    const speed = between(random, ...AUDIO_MIX.speed);
    voices.push({ character, at, speed, level: between(random, ...AUDIO_MIX.level), reversed: false });
    at += resampledLength(clipOf(clips, character).length, speed);
  }
  const length = at + msToSamples(between(random, ...AUDIO_MIX.tailMs));

  const characters = [...clips.keys()];
  const babble: AudioPlacement[] = [];
  const count = Math.round((length / AUDIO_SAMPLE_RATE) * AUDIO_MIX.babblePerSecond);
  for (let i = 0; i < count; i += 1) {
    const character = pick(random, characters);
    const speed = between(random, ...AUDIO_MIX.babbleSpeed);
    const span = Math.max(1, length - resampledLength(clipOf(clips, character).length, speed));
    babble.push({ character, at: random.int(span), speed, level: between(random, ...AUDIO_MIX.babbleLevel), reversed: true });
  }
  return { length, voices, babble };
}

/** Adds `clip`, resampled by linear interpolation, into `mix` at the placement. */
function addClip(mix: Float32Array, clip: Int16Array, placement: AudioPlacement): void {
  const length = Math.min(resampledLength(clip.length, placement.speed), mix.length - placement.at);
  const last = clip.length - 1;
  for (let i = 0; i < length; i += 1) {
    const position = i * placement.speed;
    const left = Math.min(Math.floor(position), last);
    const right = Math.min(left + 1, last);
    const fraction = position - left;
    const a = placement.reversed ? (clip[last - left] as number) : (clip[left] as number);
    const b = placement.reversed ? (clip[last - right] as number) : (clip[right] as number);
    mix[placement.at + i] = (mix[placement.at + i] as number) + placement.level * (a + (b - a) * fraction);
  }
}

export function mixCaptchaAudio(plan: AudioPlan, clips: ClipSet, random: RandomSource): Int16Array {
  const mix = new Float32Array(plan.length);
  const noise = AUDIO_MIX.noiseLevel * 32767;
  // The hiss only needs variety, not secrecy: a fast generator seeded from `random` is
  // much cheaper than drawing every sample from the keyed stream.
  const hiss = seededRandom(random.int(2 ** 32));
  for (let i = 0; i < mix.length; i += 1) mix[i] = (hiss.float() * 2 - 1) * noise;
  for (const placement of [...plan.babble, ...plan.voices]) addClip(mix, clipOf(clips, placement.character), placement);
  const samples = new Int16Array(mix.length);
  for (let i = 0; i < mix.length; i += 1) samples[i] = Math.max(-32768, Math.min(32767, Math.round(mix[i] as number)));
  return samples;
}

/** The answer spoken over babble, as a WAV file (16-bit mono PCM at AUDIO_SAMPLE_RATE). */
export function renderCaptchaAudio(answer: string, clips: ClipSet, random: RandomSource): Buffer {
  const plan = planCaptchaAudio(answer, clips, random);
  return encodeWav({ sampleRate: AUDIO_SAMPLE_RATE, samples: mixCaptchaAudio(plan, clips, random) });
}
