/**
 * Scores a blind panel: `npm run captcha:score -- KEY ANSWERS`, where KEY is what
 * captcha:sheet wrote and ANSWERS the reader's `<row> <TEXT>` lines. Prints each miss,
 * the whole-answer and character rates, and the confusion pairs.
 */
import { readFileSync } from 'node:fs';
import { formatScore, parseTranscript, scorePanel } from './legibility.js';
import { UsageError, runOperatorCommand } from '../../src/cli/operator.js';

const USAGE = 'usage: npm run captcha:score -- KEY ANSWERS';

function readTranscript(path: string, what: string): Map<number, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  try {
    return parseTranscript(text, what);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

runOperatorCommand(
  'captcha:score',
  async (args) => {
  const [keyPath, answersPath, ...extra] = args;
  if (keyPath === undefined || answersPath === undefined || extra.length > 0) throw new UsageError('give a key and an answers file');
  console.log(formatScore(scorePanel(readTranscript(keyPath, 'key'), readTranscript(answersPath, 'answers'))));
  return 0;
  },
  USAGE,
);
