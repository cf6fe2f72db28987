/**
 * The credential-stuffing bot, a child of scripts/attack/main.ts started under
 * `nice -n 19` (the attacker's CPU is not the server's: on a small machine the bot must
 * not starve the server it measures). W workers in this one process, each on its own
 * loopback /24 (127.10+i/256.i%256.1) or, with oneNetwork, all in 127.10.0.0/24, take
 * pairs from the shared list and sign in through the page (flow.ts) with a fresh cookie
 * jar per pair, reading each picture right with probability `accuracy` and trying up to
 * two new pictures after a wrong one. A pair that did not reach the password check
 * (captcha failed three times, refused) goes back to the end of the list, twice at most.
 * Every loop stops by itself at `endAt`. Proofs of work are solved one per core at a time
 * (solveSlots), each with a challenge asked for once its turn comes: 32 solves at once
 * would each take 16 times as long and expire or time out, which no bot would choose.
 *
 * CPU: process.cpuUsage() from the attack's start to its end, i.e. this process's every
 * thread (proofs of work run on the event loop or in libuv's pool).
 */
import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import { Browser } from './browser.js';
import type { Pair } from './accounts.js';
import { Tally, signInThroughPage } from './flow.js';

export interface BotStart {
  type: 'start';
  base: string;
  workers: number;
  oneNetwork: boolean;
  accuracy: number;
  attackAt: number;
  endAt: number;
  maxWaitMs: number;
  pairs: Pair[];
}

export interface BotResult {
  type: 'result';
  counts: Record<string, number>;
  /** Attempts by outcome. */
  outcomes: Record<string, number>;
  /** Right pairs posted with a passed captcha, and those answered 200. */
  rightReached: number;
  rightTaken: number;
  /** Right pairs that passed the captcha but were answered 401: refused by a lock that answers like a wrong password. */
  rightRefused401: number;
  /** Password checks granted in each 10 s of the attack. */
  grantedPer10s: number[];
  cpuSeconds: number;
  elapsedSeconds: number;
  networks: number;
}

const MAX_TRIES_PER_PAIR = 3;

export function botAddress(worker: number, oneNetwork: boolean): string {
  return oneNetwork ? `127.10.0.${worker + 1}` : `127.${10 + Math.floor(worker / 256)}.${worker % 256}.1`;
}

async function run(start: BotStart): Promise<BotResult> {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, start.attackAt - Date.now())));
  const cpuBefore = process.cpuUsage();
  const began = Date.now();
  const tally = new Tally();
  const outcomes = new Tally();
  const queue = start.pairs.map((pair) => ({ pair, tries: 0 }));
  const reached = new Set<string>();
  const taken = new Set<string>();
  const refused401 = new Set<string>();
  const grantedPer10s: number[] = [];
  // One proof of work per core at a time: more at once would only make each take longer.
  const solveSlots = pLimit(availableParallelism());
  const options = { accuracy: start.accuracy, maxPictures: 3, deadline: start.endAt, maxWaitMs: start.maxWaitMs, tally, solveSlots };

  const worker = async (index: number) => {
    const address = botAddress(index, start.oneNetwork);
    for (let next = queue.shift(); next && Date.now() < start.endAt; next = queue.shift()) {
      const { pair } = next;
      const result = await signInThroughPage(new Browser(start.base, address), pair, options);
      outcomes.add(result.outcome);
      if (result.granted) {
        const bucket = Math.floor((Date.now() - began) / 10_000);
        while (grantedPer10s.length <= bucket) grantedPer10s.push(0);
        grantedPer10s[bucket] = (grantedPer10s[bucket] ?? 0) + 1;
      }
      const key = `${pair.username}\n${pair.password}`;
      if (pair.right && result.captchaPassed) reached.add(key);
      if (pair.right && result.outcome === 'signed_in') taken.add(key);
      if (pair.right && result.outcome === 'bad_credentials') refused401.add(key);
      // Tried again later unless it got past the captcha (its answer is known) or the time is up.
      const settled = result.captchaPassed || result.outcome === 'out_of_time';
      next.tries += 1;
      if (!settled && next.tries < MAX_TRIES_PER_PAIR) queue.push(next);
    }
  };
  await Promise.all(Array.from({ length: start.workers }, (_, i) => worker(i)));
  const cpu = process.cpuUsage(cpuBefore);
  return {
    type: 'result',
    counts: tally.counts,
    outcomes: outcomes.counts,
    rightReached: reached.size,
    rightTaken: taken.size,
    rightRefused401: refused401.size,
    grantedPer10s,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    elapsedSeconds: (Date.now() - began) / 1000,
    networks: new Set(Array.from({ length: start.workers }, (_, i) => botAddress(i, start.oneNetwork).split('.').slice(0, 3).join('.'))).size,
  };
}

if (!process.send) throw new Error('bot.ts runs as a child of scripts/attack/main.ts');
const send = process.send.bind(process);
process.once('message', (message: BotStart) => {
  void run(message).then(
    (result) => send(result, () => process.exit(0)),
    (err: unknown) => {
      console.error('bot failed:', err);
      process.exit(1);
    },
  );
});
process.send({ type: 'ready' });
// The simulator is gone: nothing left to report to.
process.on('disconnect', () => process.exit(0));
