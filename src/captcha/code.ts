/**
 * Captcha answers: what a person has to type.
 *
 * The alphabet leaves out characters that a person can confuse with another one once
 * drawn with distortion (0/O/o/Q/D, 1/I/l/i/j/7, 2/Z, 5/S, 8/B, 6/G/b, 9/g/q, U/V, C/G...),
 * and the two that blind panels hesitated over most: F (read as E when a noise curve
 * crossed its foot) and 4 (a tilted 4 passes for an A). 16 characters at 5 or 6 a piece
 * still make 17.8 million possible answers. Answers are upper case; comparison is
 * case-insensitive.
 */
import { requireInteger } from '../options.js';
import { cryptoRandom, type RandomSource } from './random.js';

export const CAPTCHA_ALPHABET = 'ACEHJKLMNPRTWXY3';

export interface CodeOptions {
  /** Fewest characters in an answer. */
  minLength: number;
  /** Most characters in an answer (equal to minLength for a fixed length). */
  maxLength: number;
}

export const DEFAULT_CODE_OPTIONS: CodeOptions = { minLength: 5, maxLength: 6 };

export type CodeGenerator = () => string;

export function validateCodeOptions(options: Partial<CodeOptions> = {}): CodeOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const merged: CodeOptions = { ...DEFAULT_CODE_OPTIONS, ...given };
  for (const name of ['minLength', 'maxLength'] as const) requireInteger(`captcha code option ${name}`, merged[name], 3, 8);
  if (merged.minLength > merged.maxLength) {
    throw new RangeError(`captcha code option minLength (${merged.minLength}) exceeds maxLength (${merged.maxLength})`);
  }
  return merged;
}

/** A generator of fresh answers; pass a seeded RandomSource only outside production. */
export function createCodeGenerator(
  options: Partial<CodeOptions> = {},
  random: RandomSource = cryptoRandom,
): CodeGenerator {
  const { minLength, maxLength } = validateCodeOptions(options);
  return () => {
    const length = minLength + random.int(maxLength - minLength + 1);
    let code = '';
    for (let i = 0; i < length; i += 1) code += CAPTCHA_ALPHABET[random.int(CAPTCHA_ALPHABET.length)];
    return code;
  };
}

/** Normalises what a person typed for comparison: trimmed, upper case. */
export function normaliseAnswer(typed: string): string {
  return typed.trim().toUpperCase();
}
