/**
 * Render speed and PNG size of the captcha, next to a seed-tutorial-style baseline
 * measured in the same run (so machine load affects both alike).
 *
 *   npx tsx scripts/bench-render.ts [--count N] [--options JSON]...
 *
 * Each --options (renderer options over the defaults, as the sample commands take them)
 * adds a row, so the design table's variants are timed in the same run as the default.
 *
 * Everything runs synchronously on the calling thread (draw + PNG encode), which is
 * the per-core cost; the server's async path moves only the encoding off the event loop.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createCanvas } from 'canvas';
import { createCodeGenerator } from '../src/captcha/code.js';
import { CAPTCHA_FONT_FAMILIES, registerCaptchaFonts } from '../src/captcha/fonts.js';
import { between, seededRandom, type RandomSource } from '../src/captcha/random.js';
import { renderCaptchaSync } from '../src/captcha/render.js';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from '../src/captcha/render-options.js';
import { parseRenderOptions } from './captcha/samples.js';

export type RenderFunction = (answer: string, random: RandomSource) => Buffer;

export interface BenchOptions {
  render: RenderFunction;
  /** Images to time. */
  count?: number;
  /** Untimed images first, so one-off costs (font loading, sprite caches, JIT) are excluded. */
  warmup?: number;
  /** Seed for answers and drawing, so two functions can be timed on the same inputs. */
  seed?: number;
}

export interface BenchResult {
  imagesPerSecond: number;
  msPerImage: number;
  avgPngBytes: number;
}

export function benchRender({ render, count = 2000, warmup = 200, seed = 1 }: BenchOptions): BenchResult {
  const nextAnswer = createCodeGenerator({}, seededRandom(seed));
  const drawRandom = seededRandom(seed + 1);
  for (let i = 0; i < warmup; i += 1) render(nextAnswer(), drawRandom);
  const answers = Array.from({ length: count }, () => nextAnswer());
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (const answer of answers) bytes += render(answer, drawRandom).length;
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { imagesPerSecond: (count * 1000) / elapsedMs, msPerImage: elapsedMs / count, avgPngBytes: bytes / count };
}

/**
 * The seed tutorial's design, ported to canvas: 5 characters at fixed x = 54 * i,
 * upright, one font, random colours, 10 lines, 100 dots and 100 arcs, default PNG settings.
 */
export const renderSeedStyle: RenderFunction = (answer, random) => {
  const { width, height } = DEFAULT_RENDER_OPTIONS;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const colour = (): string => `rgb(${random.int(256)},${random.int(256)},${random.int(256)})`;
  ctx.fillStyle = colour();
  ctx.fillRect(0, 0, width, height);
  ctx.font = `30px ${CAPTCHA_FONT_FAMILIES[0]}`;
  [...answer].forEach((character, i) => {
    ctx.fillStyle = colour();
    ctx.fillText(character, 54 * i + 10, 32);
  });
  for (let i = 0; i < 10; i += 1) {
    ctx.strokeStyle = colour();
    ctx.beginPath();
    ctx.moveTo(0, between(random, 0, height));
    ctx.lineTo(width, between(random, 0, height));
    ctx.stroke();
  }
  for (let i = 0; i < 100; i += 1) {
    ctx.fillStyle = colour();
    ctx.fillRect(random.int(width), random.int(height), 1, 1);
  }
  for (let i = 0; i < 100; i += 1) {
    ctx.strokeStyle = colour();
    const x = random.int(width);
    const y = random.int(height);
    ctx.beginPath();
    ctx.arc(x, y, 3, between(random, 0, Math.PI), between(random, Math.PI, 2 * Math.PI));
    ctx.stroke();
  }
  return canvas.toBuffer('image/png');
};

/**
 * node-canvas' floor: a new canvas, one fill, a PNG with default settings, nothing drawn.
 * The issue measured it at about 3,500/s on its reference machine; measured here in the
 * same run, it says how fast this machine is at the moment.
 */
export const renderCanvasFloor: RenderFunction = (_answer, random) => {
  const { width, height } = DEFAULT_RENDER_OPTIONS;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = `rgb(${random.int(256)},${random.int(256)},${random.int(256)})`;
  ctx.fillRect(0, 0, width, height);
  return canvas.toBuffer('image/png');
};

function main(): void {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '2000' }, options: { type: 'string', multiple: true, default: [] } } });
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) {
    console.error(`bench-render: --count must be a positive integer, got ${values.count}`);
    process.exit(2);
  }
  let variants: RenderOptions[];
  try {
    variants = values.options.map(parseRenderOptions);
  } catch (error) {
    console.error(`bench-render: ${(error as Error).message}`);
    process.exit(2);
  }
  registerCaptchaFonts();
  const rows: Array<[string, BenchResult]> = [
    ['default design', benchRender({ render: (a, r) => renderCaptchaSync(a, DEFAULT_RENDER_OPTIONS, r), count })],
    ...variants.map((options, k): [string, BenchResult] => [`--options #${k + 1}`, benchRender({ render: (a, r) => renderCaptchaSync(a, options, r), count })]),
    ['seed-style baseline', benchRender({ render: renderSeedStyle, count })],
    ['canvas floor', benchRender({ render: renderCanvasFloor, count })],
  ];
  console.log(`${count} images each, 270x40, draw + PNG encode on one thread`);
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(20)} ${r.imagesPerSecond.toFixed(0).padStart(6)} images/s  ${r.msPerImage.toFixed(3)} ms/image  ${r.avgPngBytes.toFixed(0)} B/PNG`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
