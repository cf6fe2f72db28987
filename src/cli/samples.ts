/**
 * What the captcha sample commands share: their argument checks and the seeded stream of
 * labelled pictures they write (samples for the strength test, sheets for blind panels).
 *
 * A seed drives two separate streams, one for answers and one for drawing, so that a
 * change in how much randomness the renderer takes does not change the answers of a
 * seeded set. Without a seed both come from the OS CSPRNG, like production.
 */
import { createCodeGenerator } from '../captcha/code.js';
import { registerCaptchaFonts } from '../captcha/fonts.js';
import { cryptoRandom, seededRandom, type RandomSource } from '../captcha/random.js';
import { renderCaptcha } from '../captcha/render.js';
import { DEFAULT_RENDER_OPTIONS, validateRenderOptions, type RenderOptions } from '../captcha/render-options.js';

/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export function parseInteger(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`--${name} must be from ${min} to ${max}, got ${value}`);
  return value;
}

export const MAX_SEED = 2 ** 32 - 1;

/**
 * `--options '{"warpAmplitude":1}'`: renderer options over the defaults, so that a row of
 * the README's design table can be rendered again without editing code.
 */
export function parseRenderOptions(json: string | undefined): RenderOptions {
  if (json === undefined) return validateRenderOptions();
  let given: unknown;
  try {
    given = JSON.parse(json);
  } catch {
    throw new UsageError(`--options must be a JSON object, got ${JSON.stringify(json)}`);
  }
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new UsageError('--options must be a JSON object');
  const unknown = Object.keys(given).filter((name) => !(name in DEFAULT_RENDER_OPTIONS));
  if (unknown.length > 0) throw new UsageError(`--options: no render option named ${unknown.join(', ')}`);
  try {
    return validateRenderOptions(given);
  } catch (error) {
    throw new UsageError(`--options: ${(error as Error).message}`);
  }
}

export interface Sample {
  answer: string;
  png: Buffer;
}

/** `count` fresh answers and their pictures, in order; reproducible when `seed` is given. */
export async function* samples(count: number, seed: number | undefined, options: RenderOptions): AsyncGenerator<Sample> {
  registerCaptchaFonts();
  const answerRandom: RandomSource = seed === undefined ? cryptoRandom : seededRandom(seed);
  const drawRandom: RandomSource = seed === undefined ? cryptoRandom : seededRandom(seed ^ 0x9e3779b9);
  const nextAnswer = createCodeGenerator({}, answerRandom);
  for (let k = 0; k < count; k += 1) {
    const answer = nextAnswer();
    yield { answer, png: await renderCaptcha(answer, options, drawRandom) };
  }
}

/** Runs a command's main(): usage mistakes exit 2 with the usage line, anything else 1. */
export function runCommand(name: string, usage: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`${name}: ${error.message}\n${usage}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  });
}
