/**
 * A blind legibility sheet: N fresh captchas, numbered, no answers, scaled 2x (as a phone
 * or a high-DPI screen shows the 270x40 picture), and the key written apart:
 *
 *   npm run captcha:sheet -- --count 40 --sheet /tmp/panel/sheet.png --key /tmp/keys/sheet.key [--seed S] [--options JSON]
 *
 * Without --seed a fresh one is drawn from the OS CSPRNG and printed, so that nobody has
 * seen the sheet's captchas before; the seed makes the sheet reproducible afterwards.
 * How a panel is run: README, "How strong is it?".
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createCanvas, loadImage } from 'canvas';
import { formatKey } from './legibility.js';
import { MAX_SEED, UsageError, parseInteger, parseRenderOptions, runCommand, samples } from './samples.js';

const USAGE = 'usage: npm run captcha:sheet -- --count N --sheet SHEET.png --key KEY [--seed S] [--options JSON]';
const SCALE = 2;
const NUMBER_WIDTH = 60;
const ROW_GAP = 8;

function parseSheetArguments(argv: readonly string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        count: { type: 'string' },
        seed: { type: 'string' },
        sheet: { type: 'string' },
        key: { type: 'string' },
        options: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { count, seed, sheet, key, options } = parsed.values;
  if (count === undefined) throw new UsageError('--count is required');
  if (!sheet?.endsWith('.png')) throw new UsageError('--sheet must name a .png file');
  if (key === undefined || key.trim() === '') throw new UsageError('--key is required');
  // The point of a blind sheet is that its answers are kept apart from it.
  if (!relative(dirname(resolve(sheet)), resolve(key)).startsWith('..')) throw new UsageError("--key must be outside --sheet's folder");
  return {
    count: parseInteger('count', count, 1, 200),
    seed: seed === undefined ? randomInt(MAX_SEED) : parseInteger('seed', seed, 0, MAX_SEED),
    sheet,
    key,
    options: parseRenderOptions(options),
  };
}

runCommand('captcha:sheet', USAGE, async () => {
  const { count, seed, sheet, key, options } = parseSheetArguments(process.argv.slice(2));
  const rowHeight = options.height * SCALE + ROW_GAP;
  const canvas = createCanvas(NUMBER_WIDTH + options.width * SCALE, rowHeight * count);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = 'bold 20px monospace';
  ctx.textBaseline = 'middle';
  ctx.quality = 'best';
  const answers: string[] = [];
  for await (const { answer, png } of samples(count, seed, options)) {
    const y = answers.length * rowHeight;
    answers.push(answer);
    ctx.fillStyle = '#000';
    ctx.fillText(String(answers.length).padStart(2, ' '), 8, y + (options.height * SCALE) / 2);
    // Through the PNG, so the sheet shows exactly what a browser gets.
    ctx.drawImage(await loadImage(png), NUMBER_WIDTH, y, options.width * SCALE, options.height * SCALE);
  }
  mkdirSync(dirname(sheet), { recursive: true });
  mkdirSync(dirname(key), { recursive: true });
  writeFileSync(sheet, canvas.toBuffer('image/png'));
  writeFileSync(key, formatKey(answers), { mode: 0o600 });
  console.log(`seed ${seed}: wrote ${count} captchas to ${sheet}, key to ${key}`);
});
