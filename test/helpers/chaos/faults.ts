/**
 * The fault injector of the chaos run: Redis and PostgreSQL are each reached only through
 * a TCP proxy of the run's own (proxy.ts), and Redis is a redis-server of the run's own
 * that may also be frozen (SIGSTOP), never the machine's. The kinds:
 * - redis-cut / pg-cut: connections reset, new ones refused;
 * - redis-hang / pg-hang: connections accepted, nothing passes either way;
 * - redis-freeze: the server process stopped (the kernel still accepts connections);
 * - pg-hold-replies: requests reach PostgreSQL (an insert commits) but no reply comes back.
 *
 * A fault may be aimed (the seed says which): instead of starting at its planned moment
 * it waits (at most AIM_WAIT_MS) for the next account write and starts right then: Redis
 * faults just after an account was inserted (the sign-up's session is still to be
 * written), pg-hold-replies just before the insert is sent. Those windows last
 * milliseconds, so a few unaimed faults would seldom meet them; aimed, a short run does.
 */
import type { UserRepository } from '../../../src/storage/ports.js';
import type { TcpProxy } from '../proxy.js';
import type { OwnRedis } from '../services.js';
import type { Random } from './random.js';

export const FAULT_KINDS = ['redis-cut', 'redis-hang', 'redis-freeze', 'pg-cut', 'pg-hang', 'pg-hold-replies'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const AIM_WAIT_MS = 1_500;

export interface FaultRecord {
  kind: FaultKind;
  aimed: 'after-insert' | 'before-insert' | undefined;
  /** Whether an aimed fault met its moment (else it started when the wait ran out). */
  hit: boolean;
  startedAt: number;
  endedAt: number;
  /** Per instance: ms from the stores' return to its first /readyz 200 (undefined: not within the wait). */
  readyMs: Array<number | undefined>;
}

type Moment = 'after-insert' | 'before-insert';

/** Wraps the user repositories so a fault can start at an account write. */
export class Aim {
  #waiting: { moment: Moment; fire: () => void } | undefined;

  /** The repository with create() telling the aim before and after each insert. */
  wrap(real: UserRepository): UserRepository {
    return new Proxy(real, {
      get: (target, name, receiver) => {
        const value: unknown = Reflect.get(target, name, receiver);
        if (name !== 'create' || typeof value !== 'function') return value;
        // Whatever create's arguments are (they may grow), they pass through as they are.
        return async (...args: unknown[]) => {
          this.#at('before-insert');
          const user: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          this.#at('after-insert');
          return user;
        };
      },
    });
  }

  /** Resolves true when `moment` came (and `fire` ran then, synchronously), false after `ms` (fire not run). */
  wait(moment: Moment, fire: () => void, ms = AIM_WAIT_MS): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        resolve(false);
      }, ms);
      this.#waiting = {
        moment,
        fire: () => {
          clearTimeout(timer);
          fire();
          resolve(true);
        },
      };
    });
  }

  #at(moment: Moment): void {
    const waiting = this.#waiting;
    if (waiting?.moment !== moment) return;
    this.#waiting = undefined;
    waiting.fire();
  }
}

export interface Targets {
  redis: OwnRedis;
  redisProxy: TcpProxy;
  pgProxy: TcpProxy;
}

/** Starts a fault of `kind` (synchronously as far as it can: an aimed fault must start at its moment). */
function start(kind: FaultKind, targets: Targets): Promise<void> {
  switch (kind) {
    case 'redis-cut':
      return targets.redisProxy.cut();
    case 'redis-hang':
      targets.redisProxy.hang();
      return Promise.resolve();
    case 'redis-freeze':
      targets.redis.freeze();
      return Promise.resolve();
    case 'pg-cut':
      return targets.pgProxy.cut();
    case 'pg-hang':
      targets.pgProxy.hang();
      return Promise.resolve();
    case 'pg-hold-replies':
      targets.pgProxy.holdReplies();
      return Promise.resolve();
  }
}

async function end(kind: FaultKind, targets: Targets): Promise<void> {
  if (kind === 'redis-freeze') targets.redis.thaw();
  else if (kind.startsWith('redis-')) await targets.redisProxy.restore();
  else await targets.pgProxy.restore();
}

export interface FaultPlan {
  kind: FaultKind;
  aimed: Moment | undefined;
  /** ms after the run's start. */
  at: number;
  durationMs: number;
}

/**
 * `count` faults spread over `durationMs` (none in the first and last seconds), each 0.5-4 s,
 * from the seed (at most 65 % of its slot, so the instances' return is measured before the next). The first ones are one of each kind in a seeded order, aimed where they
 * can be, so even a short run meets every kind of fault and both narrow windows; the
 * rest are drawn at random, half of the aimable ones aimed.
 */
export function planFaults(random: Random, count: number, durationMs: number): FaultPlan[] {
  const leadIn = Math.min(3_000, durationMs * 0.1);
  const tail = Math.min(4_000, durationMs * 0.1);
  const slot = (durationMs - leadIn - tail) / Math.max(count, 1);
  const everyKind = [...FAULT_KINDS].sort(() => random.next() - 0.5);
  return Array.from({ length: count }, (_, i) => {
    const first = everyKind[i];
    const kind = first ?? random.pick(FAULT_KINDS);
    const aimable = kind.startsWith('redis-') || kind === 'pg-hold-replies';
    const aimed: Moment | undefined = aimable && (first !== undefined || random.chance(0.5)) ? (kind === 'pg-hold-replies' ? 'before-insert' : 'after-insert') : undefined;
    const durationMs = random.between(500, Math.max(600, Math.min(4_000, slot * 0.65)));
    return { kind, aimed, at: leadIn + i * slot + random.between(0, Math.max(0, slot - durationMs) * 0.5), durationMs };
  });
}

export interface InjectorDeps {
  targets: Targets;
  aim: Aim;
  runStart: number;
  /** While a fault is in force (set by the injector, read by the clients' log). */
  setActive: (active: boolean) => void;
  /** Answers /readyz 200 at the instance? */
  ready: (instance: number) => Promise<boolean>;
  instances: number;
  /** Called once a fault is in force, e.g. to send malformed requests meanwhile. */
  during: (fault: FaultPlan) => Promise<void>;
  stopped: () => boolean;
  /** Told of each fault once the instances answered /readyz again (or did not in time). */
  done: (record: FaultRecord) => void;
}

/** How long after the stores' return an instance may take to answer /readyz 200. */
export const READY_WITHIN_MS = 5_000;

/**
 * Runs the plan in order: each fault at its time (or at its aimed moment), restored after
 * its duration, then every instance's /readyz watched (up to READY_WITHIN_MS and a grace)
 * before the next fault may start, so every return is measured on its own.
 */
export async function inject(plan: readonly FaultPlan[], deps: InjectorDeps): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (const fault of plan) {
    if (deps.stopped()) break;
    const delay = deps.runStart + fault.at - Date.now();
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (deps.stopped()) break;
    let started: Promise<void> = Promise.resolve();
    let hit = false;
    if (fault.aimed) hit = await deps.aim.wait(fault.aimed, () => (started = start(fault.kind, deps.targets)));
    if (!hit) started = start(fault.kind, deps.targets);
    await started;
    deps.setActive(true);
    const startedAt = Date.now();
    await Promise.all([new Promise((resolve) => setTimeout(resolve, fault.durationMs)), deps.during(fault)]);
    await end(fault.kind, deps.targets);
    const endedAt = Date.now();
    deps.setActive(false);
    const readyMs = await Promise.all(Array.from({ length: deps.instances }, (_, i) => readyAfter(deps.ready, i, endedAt)));
    const record = { kind: fault.kind, aimed: fault.aimed, hit, startedAt, endedAt, readyMs };
    records.push(record);
    deps.done(record);
  }
  return records;
}

/** ms from `since` until the instance answers /readyz 200; undefined when not within READY_WITHIN_MS and a grace of 3 s. */
async function readyAfter(ready: (instance: number) => Promise<boolean>, instance: number, since: number): Promise<number | undefined> {
  while (Date.now() - since < READY_WITHIN_MS + 3_000) {
    if (await ready(instance)) return Date.now() - since;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}
