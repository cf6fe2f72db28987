/**
 * What must hold after a chaos run (issue 20), checked against the stores themselves
 * (direct connections, not the injector's proxies) and what every client was told; and
 * the table the run prints. Each invariant is held or violated with counts and a few
 * examples; observations are figures the lead may want that no rule states yet.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { LOCKOUT_DEFAULTS } from '../../../src/auth/lockout.js';
import { verifyPassword } from '../../../src/auth/passwords.js';
import { openStores } from '../../../src/storage/index.js';
import type { Teardown } from '../services.js';
import { Browser, SESSION_COOKIE, type Exchange } from './browser.js';
import { READY_WITHIN_MS, type FaultRecord } from './faults.js';
import type { Account, History, People, Person } from './people.js';

export interface InvariantResult {
  name: string;
  checked: number;
  violations: number;
  examples: string[];
}

export interface Report {
  seed: number;
  invariants: InvariantResult[];
  violated: InvariantResult[];
  table: string;
  requests: number;
  faults: number;
}

export interface CheckInput {
  seed: number;
  durationMs: number;
  instances: number;
  people: Person[];
  peopleFlows: People;
  history: History;
  exchanges: Exchange[];
  faults: FaultRecord[];
  malformed: Array<{ name: string; status: number; kind: string; error?: string }>;
  urls: string[];
  storage: { redisUrl: string; redisKeyPrefix: string; databaseUrl: string };
  errorLogs: number;
  tokenRenewals: () => number;
  /** Responses whose connection closed before they were finished (server side). */
  unfinished: string[];
  teardown: Teardown;
}

const EXAMPLES = 4;

class Invariant implements InvariantResult {
  checked = 0;
  violations = 0;
  examples: string[] = [];
  constructor(readonly name: string) {}
  check(held: boolean, example: () => string): void {
    this.checked += 1;
    if (held) return;
    this.violations += 1;
    if (this.examples.length < EXAMPLES) this.examples.push(example());
  }
}

export async function checkInvariants(input: CheckInput): Promise<Report> {
  const { history } = input;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chaos-check-'));
  input.teardown.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const stores = await openStores({ dataDir, ...input.storage, pruneIntervalMs: 0 });
  input.teardown.after(() => stores.close());
  const redis = createClient({ url: input.storage.redisUrl });
  await redis.connect();
  input.teardown.after(() => redis.close());

  const accounts = input.people.flatMap((person) => person.accounts);
  const byName = new Map(accounts.map((account) => [account.username.toLowerCase(), account]));
  const stored = new Map<string, { id: number; passwordHash: string } | undefined>();
  for (const account of accounts) stored.set(account.username, await stores.users.findByUsername(account.username));
  const byId = new Map<number, Account>();
  for (const account of accounts) {
    const user = stored.get(account.username);
    if (user) byId.set(user.id, account);
  }

  const signUpExists = new Invariant('every 2xx sign-up exists');
  const signUp503 = new Invariant('every 503 sign-up: absent, or completed by its retry');
  for (const record of history.signUps) {
    const user = stored.get(record.username);
    if (record.final === 201) signUpExists.check(user !== undefined, () => `${record.username}: 201, not in PostgreSQL`);
    if (record.saw503 > 0) {
      signUp503.check(record.final === 201 || user === undefined, () => `${record.username}: ${record.saw503}x 503, then ${record.final} ${record.code ?? ''}, yet the account exists`);
    }
  }

  // Before the final sign-ins, which would clear the counts they are about.
  const counted = new Invariant('no failure counted for attempts answered 503');
  for await (const keys of redis.scanIterator({ MATCH: `${input.storage.redisKeyPrefix}failures:*`, COUNT: 500 })) {
    for (const key of keys) {
      const account = ownerOf(key.slice(`${input.storage.redisKeyPrefix}failures:`.length), byName, byId);
      if (!account) continue;
      const [failures, lockedUntil] = await redis.hmGet(key, ['failures', 'lockedUntil']);
      const count = Number(failures ?? 0);
      const locked = Number(lockedUntil ?? 0) > Date.now();
      // A sign-up that ended without its account ("perhaps made", kept by the person) makes
      // every sign-in of that name a real failure; otherwise only wrong passwords are.
      const made = stored.get(account.username) !== undefined;
      const real = made ? account.wrongAnswered : account.answered401;
      counted.check(count <= real, () => `${key.slice(input.storage.redisKeyPrefix.length)}: ${count} failures${locked ? ' (locked)' : ''}, ${real} ${made ? 'wrong passwords' : 'sign-ins of an account never made'} answered 401`);
    }
  }

  const afterFailures = LOCKOUT_DEFAULTS.afterFailures;
  const noFalse401 = new Invariant('right credentials never answered 401 (unless own failures locked them)');
  // Right credentials of an account that exists: a sign-up that ended without one has none.
  for (const record of history.signIns.filter((r) => r.right && stored.get(r.username) !== undefined)) {
    noFalse401.check(!(record.final === 401 && record.realFailures < afterFailures), () => `${record.username} (${record.way}): ${record.saw503}x 503, then 401 ${record.code ?? ''} with ${record.realFailures} own failures`);
  }

  const finalSignIns = new Invariant('right-password sign-ins after the stores return succeed');
  // Each person from their own browser (its network, its other cookies) with the session
  // ended, one account after another; the people at once.
  await Promise.all(
    input.people.map(async (owner) => {
      for (const account of owner.accounts.filter((a) => stored.get(a.username) !== undefined && a.wrongSinceSuccess < afterFailures - 1)) {
        const browser = owner.browser.clone();
        browser.cookies.delete(SESSION_COOKIE);
        const answer = await input.peopleFlows.formPost({ ...owner, browser, signedIn: undefined }, '/login', { username: account.username, password: account.password });
        finalSignIns.check(answer?.status === 200, () => `${account.username}: ${answer?.status ?? 'no form'} ${answer?.code ?? ''}`);
      }
    }),
  );

  const staysOut = new Invariant('every session answered "signed out" stays signed out');
  for (const { cookie, username } of history.signedOut) {
    for (let instance = 0; instance < input.instances; instance += 1) {
      const probe = new Browser({ ...input.people[0]!.browser.world, retryDeadline: () => Date.now() + 10_000 }, '192.0.2.99', input.people[0]!.random);
      probe.cookies.set(cookie.split('=')[0]!, cookie.slice(cookie.indexOf('=') + 1));
      const answer = await probe.call('signed-out check', { path: '/', headers: { accept: 'text/html' }, instance });
      staysOut.check(answer.status === 303, () => `${username}'s signed-out session at instance ${instance}: ${answer.status}`);
    }
  }

  const captchaOnce = new Invariant('each captcha accepted at most once');
  for (const [key, times] of history.captchaAccepted) captchaOnce.check(times <= 1, () => `picture ${key.slice(0, 8)} accepted ${times} times`);

  const only503 = new Invariant('no 5xx other than 503');
  for (const exchange of input.exchanges) only503.check(exchange.status < 500 || exchange.status === 503, () => `${exchange.kind} at ${exchange.instance}: ${exchange.status} ${exchange.code ?? ''}`);

  const ready = new Invariant(`every instance /readyz 200 within ${READY_WITHIN_MS / 1000} s of the stores' return`);
  for (const fault of input.faults) {
    fault.readyMs.forEach((ms, instance) => ready.check(ms !== undefined && ms <= READY_WITHIN_MS, () => `after ${fault.kind}: instance ${instance} ${ms === undefined ? 'not ready' : `ready after ${ms} ms`}`));
  }

  const kept = new Invariant('nothing lost that got a 2xx (accounts with their password, passkeys)');
  for (const record of history.signUps.filter((r) => r.final === 201)) {
    const user = stored.get(record.username);
    kept.check(user !== undefined && (await verifyPassword(record.password, user.passwordHash)), () => `account ${record.username}`);
  }
  for (const record of history.passkeyAdds.filter((r) => r.final === 201)) {
    const passkey = await stores.passkeys.find(record.credentialId);
    kept.check(passkey?.username === record.username, () => `passkey ${record.credentialId.slice(0, 8)} of ${record.username}`);
  }

  const badInput = new Invariant('bad input during faults: 4xx or 503, never 500');
  for (const shot of input.malformed) badInput.check((shot.status >= 400 && shot.status < 500) || shot.status === 503, () => `${shot.name} during ${shot.kind}: ${shot.status || `no answer (${shot.error ?? '?'})`}`);

  const invariants = [signUpExists, signUp503, counted, noFalse401, finalSignIns, staysOut, captchaOnce, only503, ready, kept, badInput];
  const observations: Array<[string, number]> = [
    ['posts sent again after a 503 and refused for their spent captcha (new picture needed)', history.retryRefusedForCaptcha],
    ['pictures answered 200 whose challenge was not kept (first post refused as missing)', history.pictureNotKept],
    ['passkey adds answered 503 that were stored after all', history.passkeyAdds.filter((r) => r.storedAfter503).length],
    [
      `requests with no answer (reset or > 10 s)${input.exchanges
        .filter((e) => e.status === 0)
        .slice(0, 3)
        .map((e) => `; e.g. ${e.kind} at ${e.instance} after ${e.ms} ms: ${e.error ?? '?'}`)
        .join('')}`,
      input.exchanges.filter((e) => e.status === 0).length,
    ],
    [`responses the server did not finish (connection closed first)${input.unfinished.slice(0, 3).map((u) => `; e.g. ${u}`).join('')}`, input.unfinished.length],
    ['operations still answered 503 when the retry deadline came', history.gaveUp.length],
    ['posts refused for a stale form token (sent again with a fresh one)', input.tokenRenewals()],
    ['double clicks and replays of a form post', history.replays],
    ['error-level log lines (bugs, not outages)', input.errorLogs],
  ];
  const table = formatTable(input, invariants, observations);
  return {
    seed: input.seed,
    invariants,
    violated: invariants.filter((invariant) => invariant.violations > 0),
    table,
    requests: input.exchanges.length,
    faults: input.faults.length,
  };
}

/**
 * The account a failure count belongs to, whatever the key scheme: `<kind>:<account>[@<where>]`,
 * where the account is a name, `name:<name>` or `id:<id>`.
 */
function ownerOf(key: string, byName: Map<string, Account>, byId: Map<number, Account>): Account | undefined {
  const rest = key.slice(key.indexOf(':') + 1);
  const account = rest.split('@')[0] ?? '';
  const id = /^id:(\d+)$/.exec(account)?.[1];
  if (id !== undefined) return byId.get(Number(id));
  return byName.get(account.replace(/^name:/, '').toLowerCase());
}

function formatTable(input: CheckInput, invariants: InvariantResult[], observations: Array<[string, number]>): string {
  const lines: string[] = [];
  const pad = (cells: Array<string | number>, widths: number[]) => cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]!) : String(cell).padStart(widths[i]!))).join('  ');
  lines.push(`Chaos run: seed ${input.seed}, ${input.durationMs / 1000} s of load, ${input.instances} instances, ${input.people.length} people, ${input.faults.length} faults`);
  lines.push('', 'Requests by kind and status (every try, retries included)');
  const statuses = [...new Set(input.exchanges.map((e) => e.status))].sort((a, b) => a - b);
  const kinds = [...new Set(input.exchanges.map((e) => e.kind))].sort();
  const widths = [24, 7, ...statuses.map(() => 6), 9];
  lines.push(pad(['kind', 'total', ...statuses.map((s) => (s === 0 ? 'none' : s)), 'max ms'], widths));
  for (const kind of kinds) {
    const of = input.exchanges.filter((e) => e.kind === kind);
    lines.push(pad([kind, of.length, ...statuses.map((s) => of.filter((e) => e.status === s).length || '.'), Math.max(...of.map((e) => e.ms))], widths));
  }
  lines.push(pad(['all', input.exchanges.length, ...statuses.map((s) => input.exchanges.filter((e) => e.status === s).length || '.'), ''], widths));
  for (const kind of kinds) {
    const codes = new Map<string, number>();
    for (const e of input.exchanges.filter((x) => x.kind === kind && x.status >= 400 && x.status !== 503 && x.code)) codes.set(`${e.status} ${e.code}`, (codes.get(`${e.status} ${e.code}`) ?? 0) + 1);
    if (codes.size > 0) lines.push(`  ${kind}: ${[...codes].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} x${n}`).join(', ')}`);
  }
  const during = input.exchanges.filter((e) => e.duringFault);
  lines.push(`sent during a fault: ${during.length}, of which 503: ${during.filter((e) => e.status === 503).length}`);

  lines.push('', 'Faults injected');
  const faultWidths = [18, 6, 12, 9, 16];
  lines.push(pad(['kind', 'count', 'aimed (hit)', 'total s', 'ready after (max)'], faultWidths));
  for (const kind of [...new Set(input.faults.map((f) => f.kind))].sort()) {
    const of = input.faults.filter((f) => f.kind === kind);
    const aimed = of.filter((f) => f.aimed);
    const seconds = of.reduce((sum, f) => sum + (f.endedAt - f.startedAt), 0) / 1000;
    const readyMax = Math.max(...of.flatMap((f) => f.readyMs.map((ms) => ms ?? Number.POSITIVE_INFINITY)));
    lines.push(pad([kind, of.length, `${aimed.length} (${aimed.filter((f) => f.hit).length})`, seconds.toFixed(1), Number.isFinite(readyMax) ? `${readyMax} ms` : 'never'], faultWidths));
  }
  lines.push(pad(['all', input.faults.length, '', (input.faults.reduce((sum, f) => sum + (f.endedAt - f.startedAt), 0) / 1000).toFixed(1), ''], faultWidths));

  lines.push('', 'Invariants');
  for (const invariant of invariants) {
    const verdict = invariant.violations === 0 ? 'held    ' : 'VIOLATED';
    lines.push(`${verdict}  ${`${invariant.violations}/${invariant.checked}`.padStart(9)}  ${invariant.name}`);
    for (const example of invariant.examples) lines.push(`                     e.g. ${example}`);
  }
  lines.push('', 'Observations (no rule yet)');
  for (const [what, count] of observations) lines.push(`${String(count).padStart(6)}  ${what}`);
  const violated = invariants.filter((invariant) => invariant.violations > 0).length;
  lines.push('', violated === 0 ? `All ${invariants.length} invariants held (seed ${input.seed}).` : `${violated} of ${invariants.length} invariants VIOLATED (seed ${input.seed}).`);
  return lines.join('\n');
}
