/**
 * How guessable a new password is, by zxcvbn-ts with its common-password and English
 * dictionaries. Sign-up refuses a password below `minScore` (on zxcvbn's 0–4 scale, 3 is
 * "safely unguessable" against throttled online attacks and slow offline ones), and the
 * sign-up page shows the estimate as a hint while the person types.
 *
 * The dictionaries take a moment to load, so the estimator is built on first use.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';

export const MIN_PASSWORD_SCORE = 3;
/** Longer input only costs time; past this many characters the estimate no longer changes the verdict. */
const ESTIMATE_MAX_CHARS = 100;

export interface PasswordStrength {
  score: 0 | 1 | 2 | 3 | 4;
  acceptable: boolean;
  /** zxcvbn's English feedback: a warning and suggestions, possibly empty. */
  warning: string;
  suggestions: string[];
}

let estimator: ZxcvbnFactory | undefined;

export function passwordStrength(password: string, userInputs: string[] = []): PasswordStrength {
  estimator ??= new ZxcvbnFactory({
    translations,
    graphs: adjacencyGraphs,
    dictionary: { ...commonDictionary, ...englishDictionary },
  });
  const result = estimator.check(password.slice(0, ESTIMATE_MAX_CHARS), userInputs);
  return {
    score: result.score,
    acceptable: result.score >= MIN_PASSWORD_SCORE,
    warning: result.feedback.warning ?? '',
    suggestions: result.feedback.suggestions,
  };
}
