/**
 * A contact sheet of 20 captchas (4 columns x 5 rows, actual size, answer printed under
 * each) for the docs. Not a legibility measurement: the answers are on it (a blind
 * panel uses npm run captcha:sheet).
 *
 *   npx tsx scripts/sample-sheet.ts OUT.png [--seed S]
 *
 * Without --seed the sheet uses fresh crypto randomness, like production.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createCanvas, loadImage } from 'canvas';
import { registerCaptchaFonts } from '../src/captcha/fonts.js';
import { DEFAULT_RENDER_OPTIONS, validateRenderOptions } from '../src/captcha/render-options.js';
import { samples } from '../src/cli/samples.js';

const COLUMNS = 4;
const ROWS = 5;
const GAP = 12;
const LABEL_HEIGHT = 16;

function usage(message: string): never {
  console.error(`sample-sheet: ${message}\nusage: npx tsx scripts/sample-sheet.ts OUT.png [--seed S]`);
  process.exit(2);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ options: { seed: { type: 'string' } }, allowPositionals: true });
  } catch (error) {
    usage((error as Error).message);
  }
  const [out, ...extra] = parsed.positionals;
  if (out === undefined || extra.length > 0) usage('give exactly one output path');
  const seedText = parsed.values.seed;
  if (seedText !== undefined && !/^\d+$/.test(seedText)) usage(`--seed must be a whole number, got ${JSON.stringify(seedText)}`);
  const seed = seedText === undefined ? undefined : Number(seedText);
  // Before the first canvas: pango reads the fonts once, when a canvas is first made.
  registerCaptchaFonts();

  const { width, height } = DEFAULT_RENDER_OPTIONS;
  const cellHeight = height + LABEL_HEIGHT;
  const sheet = createCanvas(GAP + COLUMNS * (width + GAP), GAP + ROWS * (cellHeight + GAP));
  const ctx = sheet.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, sheet.width, sheet.height);
  ctx.font = '12px sans-serif';
  ctx.textBaseline = 'top';
  let i = 0;
  for await (const { answer, png } of samples(COLUMNS * ROWS, seed, validateRenderOptions())) {
    const x = GAP + (i % COLUMNS) * (width + GAP);
    const y = GAP + Math.floor(i / COLUMNS) * (cellHeight + GAP);
    // Through the PNG, so the sheet shows exactly what a browser gets.
    ctx.drawImage(await loadImage(png), x, y);
    ctx.fillStyle = '#333';
    ctx.fillText(answer, x, y + height + 2);
    i += 1;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, sheet.toBuffer('image/png'));
  console.log(`wrote ${out}`);
}

await main();
