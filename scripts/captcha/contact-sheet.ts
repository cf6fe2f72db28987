/**
 * A contact sheet of 20 captchas (4 columns x 5 rows, actual size, answer printed under
 * each) for the docs. Not a legibility measurement: the answers are on it (a blind panel
 * uses npm run captcha:sheet).
 *
 *   npx tsx scripts/captcha/contact-sheet.ts OUT.png [--seed S]
 *
 * Without --seed the sheet uses fresh crypto randomness, like production.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { validateRenderOptions } from '../../src/captcha/render-options.js';
import { UsageError, runOperatorCommand } from '../../src/cli/operator.js';
import { MAX_SEED, drawSheet, parseInteger, samples } from './samples.js';

const USAGE = 'usage: npx tsx scripts/captcha/contact-sheet.ts OUT.png [--seed S]';
const COUNT = 20;

runOperatorCommand(
  'contact-sheet',
  async (args) => {
    let parsed;
    try {
      parsed = parseArgs({ args, options: { seed: { type: 'string' } }, allowPositionals: true });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const [out, ...extra] = parsed.positionals;
    if (out === undefined || extra.length > 0) throw new UsageError('give exactly one output path');
    const seed = parsed.values.seed === undefined ? undefined : parseInteger('seed', parsed.values.seed, 0, MAX_SEED);
    const options = validateRenderOptions();
    const { png } = await drawSheet(samples(COUNT, seed, options), COUNT, options, { columns: 4, scale: 1, caption: 'answer' });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, png);
    console.log(`wrote ${out}`);
    return 0;
  },
  USAGE,
);
