/**
 * The sign-in page's flow as a client sees it, shared by the bot and the two people:
 * open /login (form token from the meta tag, captcha id from data-captcha-id), pay any
 * proof of work the server asks for, load the picture, type what the reader read, post
 * the JSON form, and act on the answer as the page does: a new picture after a wrong or
 * expired captcha (at most `maxPictures` in all), the same form again once a proof of work
 * is paid (428 pow_required / 400 pow_invalid carry a challenge; the captcha was not
 * spent), and a wait of Retry-After on 429 and 503 (bounded, never past the deadline).
 *
 * Only answers are looked at, never the server's insides, so "a password check granted"
 * is defined from them: a post answered 200 or 401 bad_credentials is one that reached
 * the password check (every guard, the proof of work, any admission and the captcha
 * passed; today each such post costs the server one scrypt). Answers whose code names a
 * lock are counted apart as locks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Browser, retryAfterSeconds, type Answer } from './browser.js';
import { challengeIn, payProofOfWork } from './pow.js';

/** The harness (serve.ts) puts each picture's answer in this header; production never does. */
export const ANSWER_HEADER = 'x-attack-sim-answer';
/** The captcha alphabet (src/captcha/code.ts), for the reader's misreadings. */
const ALPHABET = 'ACEHJKLMNPRTWXY3';
/** A post answered with a proof-of-work challenge is paid and sent again at most this often. */
const MAX_POW_ROUNDS = 3;

export interface Credentials {
  username: string;
  password: string;
}

/** Named counters, summed over attempts and processes. */
export class Tally {
  readonly counts: Record<string, number> = {};

  add(key: string, amount = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + amount;
  }

  get(key: string): number {
    return this.counts[key] ?? 0;
  }

  merge(other: Record<string, number>): void {
    for (const [key, value] of Object.entries(other)) this.add(key, value);
  }
}

export interface FlowOptions {
  /** The chance that the reader reads a picture right. */
  accuracy: number;
  /** Pictures one attempt may use: the first and new ones after a wrong or expired captcha. */
  maxPictures: number;
  /** Epoch ms: no request starts and no wait runs past this. */
  deadline: number;
  /** The longest single Retry-After wait honoured, ms. */
  maxWaitMs: number;
  /** Solvers run at once for a proof of work (the page: one worker per core, up to 4); 1 when absent. */
  powLanes?: number;
  /**
   * Shared by all of a process's attempts (the bot's): proofs of work are solved through it
   * one per core, each with a challenge asked for once its turn came, as a bot that means to
   * finish its solves before they expire would; without it each attempt solves at once.
   */
  solveSlots?: <T>(solve: () => Promise<T>) => Promise<T>;
  tally: Tally;
}

export type Outcome = 'signed_in' | 'bad_credentials' | 'locked' | 'captcha_failed' | 'refused' | 'out_of_time' | 'error';

export interface AttemptResult {
  outcome: Outcome;
  /** From opening the page to the final answer, ms. */
  ms: number;
  /** The post reached the password check: answered 200 or 401 bad_credentials. */
  granted: boolean;
  /** Some post of this attempt got past the captcha (answered 200, 401 or a lock). */
  captchaPassed: boolean;
  /** Why an attempt was refused or failed: the last answer's status and code. */
  detail?: string;
}

/** Whether the server has GET /pow-challenge; learnt from the first 404 (a server without attack mode). */
const powEndpoint = { absent: false };

function errorCodeOf(answer: Answer): string {
  try {
    const body = answer.json() as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string' ? body.error.code : '';
  } catch {
    return '';
  }
}

/** A plausible misreading: one character read as another. */
export function misread(answer: string): string {
  const at = Math.floor(Math.random() * answer.length);
  const others = ALPHABET.replace(answer[at] ?? '', '');
  return answer.slice(0, at) + (others[Math.floor(Math.random() * others.length)] ?? 'A') + answer.slice(at + 1);
}

/** Waits `ms` unless that would run past the deadline; false when it would. */
async function waitUntilOrGiveUp(ms: number, options: FlowOptions, reason: string): Promise<boolean> {
  const wait = Math.min(ms, options.maxWaitMs);
  if (Date.now() + wait >= options.deadline) return false;
  options.tally.add(`waits.${reason}.ms`, wait);
  await sleep(wait);
  return true;
}

/** One sign-in attempt through the page; never throws (a failed request is the outcome `error`). */
export async function signInThroughPage(browser: Browser, credentials: Credentials, options: FlowOptions): Promise<AttemptResult> {
  const started = Date.now();
  const { tally } = options;
  let captchaPassed = false;
  const result = (outcome: Outcome, detail?: string): AttemptResult => ({
    outcome,
    ms: Date.now() - started,
    granted: outcome === 'signed_in' || outcome === 'bad_credentials',
    captchaPassed,
    detail,
  });
  try {
    const page = await browser.get('/login');
    tally.add('pages');
    if (page.status !== 200) return result('refused', `GET /login ${page.status}`);
    const html = page.text();
    const csrfToken = /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1];
    const captchaId = /data-captcha-id="([^"]+)"/.exec(html)?.[1];
    if (!csrfToken || !captchaId) return result('error', 'the page has no form token or captcha id');

    let pow = await powForPage(browser, options);
    let pictures = 0;
    let powRounds = 0;
    type Read = { typed: string } | { stop: Outcome; detail?: string };
    const readPicture = async (): Promise<Read> => {
      for (;;) {
        const picture = await browser.get(`/get_validCode_img?id=${captchaId}&n=${Date.now().toString(36)}-${pictures}`);
        if (picture.status === 429) {
          tally.add('limits.pictures');
          if (!(await waitUntilOrGiveUp(retryAfterSeconds(picture, 5) * 1000, options, 'limits'))) return { stop: 'out_of_time' };
          continue;
        }
        if (picture.status !== 200) return { stop: 'refused', detail: `GET picture ${picture.status}` };
        pictures += 1;
        tally.add('pictures');
        const answer = picture.headers[ANSWER_HEADER];
        if (typeof answer !== 'string') {
          tally.add('pictures.unmapped');
          return { typed: misread('AAAAA') };
        }
        return { typed: Math.random() < options.accuracy ? answer : misread(answer) };
      }
    };
    let read = await readPicture();
    for (;;) {
      if ('stop' in read) return result(read.stop, read.detail);
      if (Date.now() >= options.deadline) return result('out_of_time');
      const post = await browser.postJson(
        '/login',
        { username: credentials.username, password: credentials.password, captcha: read.typed, captchaId, ...(pow === undefined ? {} : { pow }) },
        csrfToken,
      );
      const code = errorCodeOf(post);
      tally.add('posts');
      tally.add(`answers.${post.status}${code ? ` ${code}` : ''}`);
      if (post.status === 200) {
        captchaPassed = true;
        tally.add('captcha.passed');
        return result('signed_in');
      }
      if (post.status === 401 && code === 'bad_credentials') {
        captchaPassed = true;
        tally.add('captcha.passed');
        return result('bad_credentials');
      }
      if (/lock/.test(code)) {
        captchaPassed = true;
        tally.add('captcha.passed');
        tally.add('locks');
        return result('locked', `${post.status} ${code}`);
      }
      if (code === 'pow_required' || code === 'pow_invalid') {
        tally.add(code === 'pow_required' ? 'pow.required' : 'pow.invalid');
        const challenge = challengeIn(post.json());
        powRounds += 1;
        if (!challenge || powRounds > MAX_POW_ROUNDS) return result('refused', `${post.status} ${code}`);
        pow = options.solveSlots ? await options.solveSlots(async () => solve((await freshChallenge(browser)) ?? challenge, options)) : await solve(challenge, options);
        continue;
      }
      if (post.status === 429 || post.status === 503) {
        tally.add(post.status === 429 ? 'limits.posts' : 'busy');
        if (!(await waitUntilOrGiveUp(retryAfterSeconds(post, 5) * 1000, options, post.status === 429 ? 'limits' : 'busy'))) return result('out_of_time');
        continue;
      }
      if (code === 'captcha_wrong' || code === 'captcha_expired' || code === 'captcha_missing') {
        tally.add(`captcha.${code.slice('captcha_'.length)}`);
        if (pictures >= options.maxPictures) return result('captcha_failed');
        read = await readPicture();
        continue;
      }
      return result('refused', `${post.status} ${code}`);
    }
  } catch (err) {
    tally.add('errors');
    return result('error', err instanceof Error ? err.message : String(err));
  }
}

/** What the page does on load: asks GET /pow-challenge and, when required, pays it before the post. */
async function powForPage(browser: Browser, options: FlowOptions): Promise<string | undefined> {
  if (powEndpoint.absent) return undefined;
  const asked = await browser.get('/pow-challenge', { Accept: 'application/json' });
  if (asked.status === 404) {
    powEndpoint.absent = true;
    return undefined;
  }
  if (asked.status !== 200) return undefined;
  const body = asked.json() as { required?: unknown };
  if (body.required !== true) return undefined;
  options.tally.add('pow.asked');
  const challenge = challengeIn(body);
  if (!challenge) return undefined;
  if (!options.solveSlots) return solve(challenge, options);
  // Its turn may come minutes later: it asks for a fresh challenge then.
  return options.solveSlots(async () => solve((await freshChallenge(browser)) ?? challenge, options));
}

/** A challenge asked for now (GET /pow-challenge), if the server still wants one. */
async function freshChallenge(browser: Browser): Promise<ReturnType<typeof challengeIn>> {
  const asked = await browser.get('/pow-challenge', { Accept: 'application/json' });
  return asked.status === 200 ? challengeIn(asked.json()) : undefined;
}

async function solve(challenge: Parameters<typeof payProofOfWork>[0], options: FlowOptions): Promise<string> {
  const { payload, ms } = await payProofOfWork(challenge, options.powLanes);
  options.tally.add('pow.solved');
  options.tally.add('pow.solveMs', ms);
  return payload;
}

/** Signs out as the home page's button does (its form token from the page); true when signed out. */
export async function signOut(browser: Browser): Promise<boolean> {
  const home = await browser.get('/');
  const token = /name="_csrf" value="([^"]+)"/.exec(home.text())?.[1];
  if (home.status !== 200 || !token) return false;
  const answer = await browser.postForm('/logout', { _csrf: token });
  return answer.status === 200;
}
