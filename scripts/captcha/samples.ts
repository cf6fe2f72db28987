/**
 * What the captcha research commands share: their argument checks, the seeded stream of
 * labelled pictures they write (samples for the strength test, sheets for blind panels),
 * and the one sheet drawer (a blind panel's numbered sheet, the docs' contact sheet).
 *
 * A seed drives two separate streams, one for answers and one for drawing, so that a
 * change in how much randomness the renderer takes does not change the answers of a
 * seeded set. Without a seed both come from the OS CSPRNG, like production.
 */
import { createCanvas, loadImage } from 'canvas';
import { createCodeGenerator } from '../../src/captcha/code.js';
import { registerCaptchaFonts } from '../../src/captcha/fonts.js';
import { cryptoRandom, seededRandom, type RandomSource } from '../../src/captcha/random.js';
import { renderCaptcha } from '../../src/captcha/render.js';
import { DEFAULT_RENDER_OPTIONS, validateRenderOptions, type RenderOptions } from '../../src/captcha/render-options.js';
import { UsageError } from '../../src/cli/operator.js';

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

export interface SheetLayout {
  columns: number;
  /** How much larger than the picture each is drawn (2: as a phone or a high-DPI screen shows it). */
  scale: number;
  /** What stands by each picture: its row number (a blind sheet) or its answer under it (the docs). */
  caption: 'number' | 'answer';
}

const GAP = 8;
const NUMBER_WIDTH = 60;
const ANSWER_HEIGHT = 16;

/**
 * Draws pictures on one white sheet, `columns` across, each through its PNG so the sheet
 * shows exactly what a browser gets; returns the sheet's PNG and the answers in order.
 */
export async function drawSheet(pictures: AsyncIterable<Sample>, count: number, options: RenderOptions, layout: SheetLayout): Promise<{ png: Buffer; answers: string[] }> {
  const width = options.width * layout.scale;
  const height = options.height * layout.scale;
  const left = layout.caption === 'number' ? NUMBER_WIDTH : GAP;
  const below = layout.caption === 'answer' ? ANSWER_HEIGHT : 0;
  const rows = Math.ceil(count / layout.columns);
  const canvas = createCanvas(left + layout.columns * (width + GAP) - (layout.caption === 'number' ? GAP : 0), rows * (height + below + GAP));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.quality = 'best';
  const answers: string[] = [];
  for await (const { answer, png } of pictures) {
    const index = answers.length;
    const x = left + (index % layout.columns) * (width + GAP);
    const y = Math.floor(index / layout.columns) * (height + below + GAP);
    answers.push(answer);
    ctx.drawImage(await loadImage(png), x, y, width, height);
    if (layout.caption === 'number') {
      ctx.font = 'bold 20px monospace';
      ctx.textBaseline = 'middle';
      ctx.fillStyle = '#000';
      ctx.fillText(String(answers.length).padStart(2, ' '), 8, y + height / 2);
    } else {
      ctx.font = '12px sans-serif';
      ctx.textBaseline = 'top';
      ctx.fillStyle = '#333';
      ctx.fillText(answer, x, y + height + 2);
    }
  }
  return { png: canvas.toBuffer('image/png'), answers };
}
