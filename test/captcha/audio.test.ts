import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { AUDIO_MIX, mixCaptchaAudio, planCaptchaAudio, renderCaptchaAudio, type AudioPlacement } from '../../src/captcha/audio.js';
import { AUDIO_SAMPLE_RATE, loadAudioClips, type ClipSet } from '../../src/captcha/audio-clips.js';
import { CAPTCHA_ALPHABET, createCodeGenerator } from '../../src/captcha/code.js';
import { keyedRandom, seededRandom } from '../../src/captcha/random.js';
import { decodeWav, encodeWav } from '../../src/captcha/wav.js';
import { LOCALES } from '../../src/i18n/messages.js';

const clips = loadAudioClips();
const key = (byte: number) => Buffer.alloc(16, byte);

/** Correlation of a and b (same length), 1 for the same shape at any level. */
function correlation(a: Int16Array, b: Int16Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i += 1) {
    ab += (a[i] as number) * (b[i] as number);
    aa += (a[i] as number) ** 2;
    bb += (b[i] as number) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** What `placement` alone contributes to a mix of `length` samples, over [at, at + span). */
function alone(placement: AudioPlacement, length: number, set: ClipSet, span: number): Int16Array {
  const solo = mixCaptchaAudio({ length, voices: [placement], babble: [] }, set, seededRandom(1));
  return solo.subarray(placement.at, placement.at + span);
}

describe('the recorded characters', () => {
  it('cover CAPTCHA_ALPHABET in every page language, 16 kHz, a short word each', () => {
    for (const locale of LOCALES) {
      assert.deepEqual([...clips[locale].keys()].sort(), [...CAPTCHA_ALPHABET].sort(), locale);
      for (const [character, samples] of clips[locale]) {
        const seconds = samples.length / AUDIO_SAMPLE_RATE;
        assert.ok(seconds > 0.15 && seconds < 1, `${locale} ${character}: ${seconds} s`);
        assert.ok(Math.max(...samples.map(Math.abs)) > 16_000, `${locale} ${character} is not silent`);
      }
    }
  });

  it('differ between the languages', () => {
    for (const character of CAPTCHA_ALPHABET) {
      assert.notDeepEqual(clips.en.get(character), clips['zh-CN'].get(character), character);
    }
  });
});

describe('the WAV format', () => {
  it('round-trips 16-bit mono PCM and refuses anything else', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const wav = encodeWav({ sampleRate: 16_000, samples });
    assert.equal(wav.length, 44 + 12);
    assert.deepEqual(decodeWav(wav), { sampleRate: 16_000, samples });
    const stereo = Buffer.from(wav);
    stereo.writeUInt16LE(2, 22);
    assert.throws(() => decodeWav(stereo), /16-bit mono PCM/);
    assert.throws(() => decodeWav(Buffer.from('not a wav file')), /not a RIFF WAVE/);
  });
});

describe('keyedRandom', () => {
  it('repeats for one key, differs between keys, and stays in range', () => {
    const draw = (k: Buffer) => {
      const random = keyedRandom(k);
      return Array.from({ length: 2000 }, () => random.float());
    };
    assert.deepEqual(draw(key(1)), draw(key(1)));
    assert.notDeepEqual(draw(key(1)), draw(key(2)));
    const floats = draw(randomBytes(16));
    assert.ok(floats.every((f) => f >= 0 && f < 1));
    const mean = floats.reduce((a, b) => a + b) / floats.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  });
});

describe('the audio captcha', () => {
  it('gives the same bytes for the same challenge, and other bytes for another', () => {
    for (const locale of LOCALES) {
      const wav = renderCaptchaAudio('HKW3N', clips[locale], keyedRandom(key(7)));
      assert.deepEqual(renderCaptchaAudio('HKW3N', clips[locale], keyedRandom(key(7))), wav, `${locale}: same key`);
      assert.notDeepEqual(renderCaptchaAudio('HKW3N', clips[locale], keyedRandom(key(8))), wav, `${locale}: other key`);
      assert.notDeepEqual(renderCaptchaAudio('HKW3M', clips[locale], keyedRandom(key(7))), wav, `${locale}: other answer`);
    }
  });

  it('is a WAV of 16-bit mono PCM whose length the gaps, speeds and clips bound', () => {
    const generate = createCodeGenerator({}, seededRandom(3));
    for (let i = 0; i < 40; i += 1) {
      const answer = generate();
      const locale = LOCALES[i % LOCALES.length] as (typeof LOCALES)[number];
      const { sampleRate, samples } = decodeWav(renderCaptchaAudio(answer, clips[locale], keyedRandom(randomBytes(16))));
      assert.equal(sampleRate, AUDIO_SAMPLE_RATE);
      const spoken = [...answer].reduce((sum, c) => sum + (clips[locale].get(c) as Int16Array).length, 0);
      const ms = (pick: 0 | 1) =>
        AUDIO_MIX.leadMs[pick] + (answer.length - 1) * AUDIO_MIX.gapMs[pick] + AUDIO_MIX.tailMs[pick];
      const least = (ms(0) / 1000) * sampleRate + spoken / AUDIO_MIX.speed[1] - answer.length;
      const most = (ms(1) / 1000) * sampleRate + spoken / AUDIO_MIX.speed[0] + answer.length;
      assert.ok(samples.length >= least && samples.length <= most, `${answer}: ${samples.length} not in [${least}, ${most}]`);
      assert.ok(samples.length / sampleRate < 10, `${answer}: ${samples.length / sampleRate} s`);
    }
  });

  it('speaks the answer in order, each character recognisable over the babble where the plan puts it', () => {
    for (const locale of LOCALES) {
      const set = clips[locale];
      const answer = 'MNXHW3';
      const plan = planCaptchaAudio(answer, set, keyedRandom(key(9)));
      assert.deepEqual(plan.voices.map((voice) => voice.character).join(''), answer);
      for (const [i, voice] of plan.voices.entries()) {
        const previous = plan.voices[i - 1];
        if (previous) assert.ok(voice.at > previous.at, 'in order');
      }
      assert.ok(plan.babble.length > 0, 'there is babble');
      const { samples } = decodeWav(renderCaptchaAudio(answer, set, keyedRandom(key(9))));
      assert.equal(samples.length, plan.length);
      for (const voice of plan.voices) {
        // Of every character of the alphabet, said at this place, speed and level, the
        // answer's one matches the mix best.
        const span = Math.floor((set.get(voice.character) as Int16Array).length / voice.speed);
        const heard = samples.subarray(voice.at, voice.at + span);
        const scores = [...CAPTCHA_ALPHABET].map((character) => {
          const candidate = alone({ ...voice, character }, plan.length, set, span);
          const n = Math.min(candidate.length, heard.length);
          return { character, score: correlation(heard.subarray(0, n), candidate.subarray(0, n)) };
        });
        scores.sort((a, b) => b.score - a.score);
        assert.equal(scores[0]?.character, voice.character, `${locale} ${voice.character}: ${JSON.stringify(scores.slice(0, 3))}`);
        assert.ok((scores[0]?.score ?? 0) > 0.8, `${locale} ${voice.character} is clear over the babble: ${scores[0]?.score}`);
      }
    }
  });
});
