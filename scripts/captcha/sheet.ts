/**
 * A blind legibility sheet: N fresh captchas, numbered, no answers, scaled 2x (as a phone
 * or a high-DPI screen shows the 270x40 picture), and the key written apart:
 *
 *   npm run captcha:sheet -- --count 40 --sheet /tmp/panel/sheet.png --key /tmp/keys/sheet.key [--seed S] [--options JSON]
 *
 * Without --seed a fresh one is drawn from the OS CSPRNG and printed, so that nobody has
 * seen the sheet's captchas before; the seed makes the sheet reproducible afterwards.
 * How a panel is run: docs/captcha-strength.md.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatKey } from './legibility.js';
import { UsageError, runOperatorCommand } from '../../src/cli/operator.js';
import { MAX_SEED, drawSheet, parseInteger, parseRenderOptions, samples } from './samples.js';

const USAGE = 'usage: npm run captcha:sheet -- --count N --sheet SHEET.png --key KEY [--seed S] [--options JSON]';

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

runOperatorCommand(
  'captcha:sheet',
  async (args) => {
    const { count, seed, sheet, key, options } = parseSheetArguments(args);
    const { png, answers } = await drawSheet(samples(count, seed, options), count, options, { columns: 1, scale: 2, caption: 'number' });
    mkdirSync(dirname(sheet), { recursive: true });
    mkdirSync(dirname(key), { recursive: true });
    writeFileSync(sheet, png);
    writeFileSync(key, formatKey(answers), { mode: 0o600 });
    console.log(`seed ${seed}: wrote ${count} captchas to ${sheet}, key to ${key}`);
    return 0;
  },
  USAGE,
);
