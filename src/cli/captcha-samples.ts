/**
 * Writes labelled captcha samples for eyeballing and for the strength test
 * (../shared/captcha-strength): `npm run captcha:samples -- --count N --out DIR [--seed S]`.
 *
 * Files are named `<answer>_<k>.png`, the naming the attacker script expects. Samples
 * use the production defaults (answer generator and renderer) so that what is measured
 * is what users get. Answers come from the OS CSPRNG unless --seed asks for a
 * reproducible set; a seed drives both answers and drawing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCodeGenerator } from '../captcha/code.js';
import { registerCaptchaFonts } from '../captcha/fonts.js';
import { cryptoRandom, seededRandom, type RandomSource } from '../captcha/random.js';
import { renderCaptcha } from '../captcha/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../captcha/render-options.js';

const USAGE = 'usage: npm run captcha:samples -- --count N --out DIR [--seed S]';
const MAX_COUNT = 1_000_000;

class UsageError extends Error {}

interface SampleArguments {
  count: number;
  out: string;
  seed: number | undefined;
}

function parseInteger(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`--${name} must be from ${min} to ${max}, got ${value}`);
  return value;
}

function parseSampleArguments(argv: readonly string[]): SampleArguments {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { count: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { count, out, seed } = parsed.values;
  if (count === undefined) throw new UsageError('--count is required');
  if (out === undefined || out.trim() === '') throw new UsageError('--out is required');
  return {
    count: parseInteger('count', count, 1, MAX_COUNT),
    out,
    seed: seed === undefined ? undefined : parseInteger('seed', seed, 0, 2 ** 32 - 1),
  };
}

async function main(): Promise<void> {
  const { count, out, seed } = parseSampleArguments(process.argv.slice(2));
  registerCaptchaFonts();
  mkdirSync(out, { recursive: true });
  // Separate streams for answers and drawing, so that a change in how much randomness
  // the renderer consumes does not change the answers of a seeded set.
  const answerRandom: RandomSource = seed === undefined ? cryptoRandom : seededRandom(seed);
  const drawRandom: RandomSource = seed === undefined ? cryptoRandom : seededRandom(seed ^ 0x9e3779b9);
  const nextAnswer = createCodeGenerator({}, answerRandom);
  const digits = String(count - 1).length;
  for (let k = 0; k < count; k += 1) {
    const answer = nextAnswer();
    const png = await renderCaptcha(answer, DEFAULT_RENDER_OPTIONS, drawRandom);
    writeFileSync(join(out, `${answer}_${String(k).padStart(digits, '0')}.png`), png);
  }
  console.log(`wrote ${count} captchas to ${out}`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`captcha:samples: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
