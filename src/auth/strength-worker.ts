/**
 * The password-strength estimator's worker thread (see password-strength.ts): zxcvbn-ts
 * with its common-password and English dictionaries, built on the thread's first task.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';

export interface EstimateTask {
  password: string;
  userInputs: string[];
}

export interface Estimate {
  score: 0 | 1 | 2 | 3 | 4;
  /** zxcvbn's English feedback: a warning and suggestions, possibly empty. */
  warning: string;
  suggestions: string[];
}

let estimator: ZxcvbnFactory | undefined;

export default function estimate({ password, userInputs }: EstimateTask): Estimate {
  estimator ??= new ZxcvbnFactory({
    translations,
    graphs: adjacencyGraphs,
    dictionary: { ...commonDictionary, ...englishDictionary },
  });
  const result = estimator.check(password, userInputs);
  return { score: result.score, warning: result.feedback.warning ?? '', suggestions: result.feedback.suggestions };
}
