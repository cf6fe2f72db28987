/**
 * A person signing in while the bot runs, a child of scripts/attack/main.ts at normal
 * priority (a person's browser is not the attacker's machine). Every 10 s from `t0` to
 * `endAt` the person opens the sign-in page, pays any proof of work, reads the picture
 * right, signs in with the right password (through flow.ts, so busy and proof-of-work
 * answers are handled as the page does) and signs out. A sign-in succeeds if it is done
 * within 60 s of opening the page; its time is from opening the page to the 200.
 *
 * - known: one browser from its own /24 (127.200.0.1) that signed in once before the run
 *   (`prime`) and keeps its cookies, device token included; one sign-in at a time.
 * - new: every 10 s a fresh cookie jar from a fresh /24 (127.201.k.1), each sign-in
 *   running on its own even if an earlier one is still going.
 */
import { availableParallelism } from 'node:os';
import { Browser } from './browser.js';
import type { Account } from './accounts.js';
import { Tally, signInThroughPage, signOut } from './flow.js';

export type PersonKind = 'known' | 'new';

export type PersonCommand =
  | { type: 'prime'; base: string; kind: PersonKind; account: Account }
  | { type: 'run'; t0: number; endAt: number };

export interface PersonAttempt {
  startedAt: number;
  ms: number;
  ok: boolean;
  outcome: string;
  detail?: string;
}

export type PersonMessage =
  | { type: 'ready' }
  | { type: 'primed'; ok: boolean; detail?: string; deviceCookie: boolean }
  | { type: 'result'; attempts: PersonAttempt[]; counts: Record<string, number> };

const INTERVAL_MS = 10_000;
const WINDOW_MS = 60_000;
/** The page's proof-of-work workers: one per core, up to 4 (public/js/pow.js). */
const POW_LANES = Math.min(4, availableParallelism());
const KNOWN_ADDRESS = '127.200.0.1';
/** The known-device token's cookie (issue 17's design), reported so a run shows whether the server gave one. */
const DEVICE_COOKIE = 'captcha_login.device';
const newDeviceAddress = (k: number): string => `127.201.${k % 256}.${1 + Math.floor(k / 256)}`;

if (!process.send) throw new Error('person.ts runs as a child of scripts/attack/main.ts');
const send = (message: PersonMessage, then: () => void = () => {}) => process.send?.(message, then);
const tally = new Tally();
let base = '';
let kind: PersonKind = 'known';
let account: Account = { username: '', password: '' };
let knownBrowser: Browser | undefined;

async function attempt(browser: Browser): Promise<PersonAttempt> {
  const startedAt = Date.now();
  const result = await signInThroughPage(browser, account, { accuracy: 1, maxPictures: 3, deadline: startedAt + WINDOW_MS, maxWaitMs: WINDOW_MS, powLanes: POW_LANES, tally });
  const ok = result.outcome === 'signed_in' && result.ms <= WINDOW_MS;
  if (result.outcome === 'signed_in') await signOut(browser).catch(() => false);
  return { startedAt, ms: result.ms, ok, outcome: result.outcome, detail: result.detail };
}

async function prime(): Promise<void> {
  if (kind === 'new') {
    send({ type: 'primed', ok: true, deviceCookie: false });
    return;
  }
  knownBrowser = new Browser(base, KNOWN_ADDRESS);
  const first = await attempt(knownBrowser);
  const deviceCookie = knownBrowser.hasCookie(DEVICE_COOKIE);
  send({ type: 'primed', ok: first.ok, detail: first.ok ? undefined : `${first.outcome} ${first.detail ?? ''}`.trim(), deviceCookie });
}

async function run(t0: number, endAt: number): Promise<PersonAttempt[]> {
  const attempts: PersonAttempt[] = [];
  const inFlight: Promise<void>[] = [];
  for (let k = 0; t0 + k * INTERVAL_MS < endAt; k += 1) {
    const tick = t0 + k * INTERVAL_MS;
    if (tick < Date.now()) continue; // the known device was still busy with the previous sign-in
    await new Promise((resolve) => setTimeout(resolve, tick - Date.now()));
    if (kind === 'known' && knownBrowser) attempts.push(await attempt(knownBrowser));
    else inFlight.push(attempt(new Browser(base, newDeviceAddress(k))).then((a) => void attempts.push(a)));
  }
  await Promise.all(inFlight);
  return attempts.sort((a, b) => a.startedAt - b.startedAt);
}

process.on('message', (command: PersonCommand) => {
  if (command.type === 'prime') {
    ({ base, kind, account } = command);
    void prime();
  } else {
    void run(command.t0, command.endAt).then((attempts) => send({ type: 'result', attempts, counts: tally.counts }, () => process.exit(0)));
  }
});
send({ type: 'ready' });
process.on('disconnect', () => process.exit(0));
