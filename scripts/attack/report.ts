/**
 * The simulator's figures, from what the processes reported, and the table it prints
 * (markdown, so it pastes into the README as it is).
 */
import type { BotResult } from './bot.js';
import type { PersonAttempt } from './person.js';

export interface RunFacts {
  date: string;
  backEnd: string;
  serverDir: string;
  accounts: number;
  pairs: number;
  rightPairs: number;
  workers: number;
  accuracy: number;
  warmupSeconds: number;
  attackSeconds: number;
  attackAt: number;
  bot: BotResult;
  known: PersonAttempt[];
  fresh: PersonAttempt[];
  /** Server CPU seconds in the warm-up and in the attack. */
  serverCpu: { warmup: number; attack: number };
  harness: { answers: number; unmapped: number };
  /** Whether the known-device person held a device cookie after its first sign-in. */
  deviceCookie: boolean;
  load: { start: number[]; end: number[] };
  cpus: number;
}

export interface PersonFigures {
  attempts: number;
  succeeded: number;
  p50Ms: number | null;
  p95Ms: number | null;
  failures: string[];
}

export interface Figures {
  picturesPassedPercent: number | null;
  pictures: number;
  grantedChecks: number;
  grantedPerMinute: number;
  grantedPer10s: number[];
  limits: { posts: number; pictures: number };
  locks: number;
  rightRefused401: number;
  busy: number;
  pow: { required: number; invalid: number; askedByPage: number; solved: number; solveSeconds: number };
  takeovers: { rightReached: number; taken: number };
  botCpuSeconds: number;
  botCpuSecondsPerGrantedCheck: number | null;
  people: { known: { before: PersonFigures; during: PersonFigures }; fresh: { before: PersonFigures; during: PersonFigures } };
  serverCoresBusy: { warmup: number; attack: number };
  answers: Record<string, number>;
  outcomes: Record<string, number>;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

function personFigures(attempts: PersonAttempt[]): PersonFigures {
  const times = attempts.filter((a) => a.ok).map((a) => a.ms).sort((a, b) => a - b);
  return {
    attempts: attempts.length,
    succeeded: times.length,
    p50Ms: percentile(times, 50),
    p95Ms: percentile(times, 95),
    failures: attempts.filter((a) => !a.ok).map((a) => `${a.outcome}${a.detail ? ` (${a.detail})` : ''} after ${(a.ms / 1000).toFixed(1)} s`),
  };
}

export function figuresOf(run: RunFacts): Figures {
  const c = (key: string) => run.bot.counts[key] ?? 0;
  const passed = c('captcha.passed');
  const wrong = c('captcha.wrong');
  const granted = c('answers.200') + c('answers.401 bad_credentials');
  const split = (attempts: PersonAttempt[]) => ({
    before: personFigures(attempts.filter((a) => a.startedAt < run.attackAt)),
    during: personFigures(attempts.filter((a) => a.startedAt >= run.attackAt)),
  });
  return {
    picturesPassedPercent: passed + wrong > 0 ? (100 * passed) / (passed + wrong) : null,
    pictures: c('pictures'),
    grantedChecks: granted,
    grantedPerMinute: granted / (run.attackSeconds / 60),
    grantedPer10s: run.bot.grantedPer10s,
    limits: { posts: c('limits.posts'), pictures: c('limits.pictures') },
    locks: c('locks'),
    rightRefused401: run.bot.rightRefused401,
    busy: c('busy'),
    pow: { required: c('pow.required'), invalid: c('pow.invalid'), askedByPage: c('pow.asked'), solved: c('pow.solved'), solveSeconds: c('pow.solveMs') / 1000 },
    takeovers: { rightReached: run.bot.rightReached, taken: run.bot.rightTaken },
    botCpuSeconds: run.bot.cpuSeconds,
    botCpuSecondsPerGrantedCheck: granted > 0 ? run.bot.cpuSeconds / granted : null,
    people: { known: split(run.known), fresh: split(run.fresh) },
    serverCoresBusy: { warmup: run.serverCpu.warmup / run.warmupSeconds, attack: run.serverCpu.attack / run.attackSeconds },
    answers: Object.fromEntries(Object.entries(run.bot.counts).filter(([key]) => key.startsWith('answers.')).map(([key, n]) => [key.slice('answers.'.length), n])),
    outcomes: run.bot.outcomes,
  };
}

const seconds = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);
const fixed = (value: number, digits = 1): string => value.toFixed(digits);
const load = (values: number[]): string => values.map((v) => v.toFixed(2)).join(' / ');

function personRow(figures: { before: PersonFigures; during: PersonFigures }): string {
  const one = (f: PersonFigures) => `${f.succeeded}/${f.attempts} signed in, p50 ${seconds(f.p50Ms)}, p95 ${seconds(f.p95Ms)}`;
  return `during: **${one(figures.during)}**; before the attack: ${one(figures.before)}`;
}

export function formatTable(run: RunFacts, f: Figures): string {
  const rows: Array<[string, string]> = [
    ['run', `${run.date}, ${run.backEnd}, ${run.accounts} accounts, ${run.pairs} pairs (${run.rightPairs} right), ${run.workers} workers in ${run.bot.networks} /24s, reader ${Math.round(run.accuracy * 100)} %, ${run.warmupSeconds} s warm-up + ${run.attackSeconds} s attack`],
    ['pictures the bot\'s reader got past', f.picturesPassedPercent === null ? 'n/a' : `**${fixed(f.picturesPassedPercent)} %** of ${f.pictures} pictures (up to 2 new pictures after a wrong one)`],
    ['password checks granted to the bot', `**${f.grantedChecks} in ${run.attackSeconds} s, ${fixed(f.grantedPerMinute)} a minute** (posts answered 200 or 401 bad_credentials); per 10 s: ${f.grantedPer10s.join(' ')}`],
    ['per-IP limits (429), locks hit', `429: ${f.limits.posts} posts, ${f.limits.pictures} pictures; answers naming a lock: ${f.locks}; right pairs past the captcha answered 401 (a lock that looks like a wrong password): ${f.rightRefused401}`],
    ['busy (503)', `${f.busy}`],
    ['proof of work', `asked by the page: ${f.pow.askedByPage}, 428 pow_required: ${f.pow.required}, 400 pow_invalid: ${f.pow.invalid}; solved ${f.pow.solved} in ${fixed(f.pow.solveSeconds)} s of solving`],
    ['takeovers', `**${f.takeovers.taken} of the ${f.takeovers.rightReached} right pairs the bot reached** (posted with a passed captcha)`],
    ['bot CPU (nice 19)', `${fixed(f.botCpuSeconds)} s, **${f.botCpuSecondsPerGrantedCheck === null ? 'n/a' : fixed(f.botCpuSecondsPerGrantedCheck, 3)} s per granted check**`],
    ['person, known device', `${personRow(f.people.known)}; device cookie: ${run.deviceCookie ? 'yes' : 'none'}`],
    ['person, new device (within 60 s)', personRow(f.people.fresh)],
    ['server CPU', `${fixed(f.serverCoresBusy.attack, 2)} cores busy during the attack, ${fixed(f.serverCoresBusy.warmup, 2)} before (of ${run.cpus})`],
    ['load average (1/5/15 min)', `start ${load(run.load.start)}, end ${load(run.load.end)}`],
    ['bot answers', Object.entries(f.answers).map(([key, n]) => `${key}: ${n}`).join(', ') || 'none'],
    ['harness', `${run.harness.answers} answers learnt, ${run.harness.unmapped} pictures without one`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = ['| ' + ''.padEnd(width) + ' | figure |', `|${'-'.repeat(width + 2)}|--------|`, ...rows.map(([label, value]) => `| ${label.padEnd(width)} | ${value} |`)];
  const failures = [...f.people.known.during.failures.map((x) => `known device: ${x}`), ...f.people.fresh.during.failures.map((x) => `new device: ${x}`)];
  if (failures.length > 0) lines.push('', 'People\'s failed sign-ins during the attack:', ...failures.map((x) => `- ${x}`));
  return lines.join('\n');
}
