/**
 * Writes labelled captcha samples for eyeballing and for the strength test
 * (../shared/captcha-strength):
 * `npm run captcha:samples -- --count N --out DIR [--seed S] [--options JSON]`.
 *
 * Files are named `<answer>_<k>.png`, the naming the attacker script expects. Samples
 * use the production defaults (answer generator and renderer) so that what is measured
 * is what users get; --options renders a variant for comparison.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, runOperatorCommand } from '../../src/cli/operator.js';
import { MAX_SEED, parseInteger, parseRenderOptions, samples } from './samples.js';

const USAGE = 'usage: npm run captcha:samples -- --count N --out DIR [--seed S] [--options JSON]';
const MAX_COUNT = 1_000_000;

function parseSampleArguments(argv: readonly string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { count: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, options: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { count, out, seed, options } = parsed.values;
  if (count === undefined) throw new UsageError('--count is required');
  if (out === undefined || out.trim() === '') throw new UsageError('--out is required');
  return {
    count: parseInteger('count', count, 1, MAX_COUNT),
    out,
    seed: seed === undefined ? undefined : parseInteger('seed', seed, 0, MAX_SEED),
    options: parseRenderOptions(options),
  };
}

runOperatorCommand(
  'captcha:samples',
  async (args) => {
  const { count, out, seed, options } = parseSampleArguments(args);
  mkdirSync(out, { recursive: true });
  const digits = String(count - 1).length;
  let k = 0;
  for await (const { answer, png } of samples(count, seed, options)) {
    writeFileSync(join(out, `${answer}_${String(k).padStart(digits, '0')}.png`), png);
    k += 1;
  }
  console.log(`wrote ${count} captchas to ${out}`);
  return 0;
  },
  USAGE,
);
