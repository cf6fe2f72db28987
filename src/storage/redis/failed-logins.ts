/**
 * Failure counts and sign-in networks in Redis. A count is a hash {failures, lockedUntil}
 * that HINCRBY counts and PEXPIREAT forgets FAILURE_MEMORY_MS after the last failure,
 * in one script; the lock it asks for is written by a second script that only moves it
 * later, so two concurrent failures cannot leave the shorter lock. A sign-in network is a
 * key holding the time of the last sign-in, expiring KNOWN_NETWORK_MS after it.
 */
import { FAILURE_MEMORY_MS, KNOWN_NETWORK_MS, type FailedLoginStore } from '../ports.js';
import type { RedisClient } from './client.js';
import { COUNT_FAILURE, EXTEND_LOCK } from './scripts.js';

export class RedisFailedLoginStore implements FailedLoginStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  #countKey(key: string): string {
    return `${this.prefix}failures:${key}`;
  }

  #networkKey(account: string, network: string): string {
    return `${this.prefix}network:${account}@${network}`;
  }

  async lockedUntil(key: string): Promise<number> {
    return Number((await this.client.hGet(this.#countKey(key), 'lockedUntil')) ?? 0);
  }

  async addFailure(key: string, now: number, lockFor: (failures: number) => number): Promise<void> {
    const countKey = this.#countKey(key);
    const failures = Number(await this.client.eval(COUNT_FAILURE, { keys: [countKey], arguments: [String(now + FAILURE_MEMORY_MS)] }));
    const duration = lockFor(failures);
    if (duration > 0) await this.client.eval(EXTEND_LOCK, { keys: [countKey], arguments: [String(now + duration)] });
  }

  async clear(key: string): Promise<void> {
    await this.client.del(this.#countKey(key));
  }

  async rememberNetwork(account: string, network: string, now: number): Promise<void> {
    await this.client.set(this.#networkKey(account, network), String(now), { expiration: { type: 'PXAT', value: now + KNOWN_NETWORK_MS } });
  }

  async knowsNetwork(account: string, network: string, since: number): Promise<boolean> {
    const lastSuccess = await this.client.get(this.#networkKey(account, network));
    return lastSuccess !== null && Number(lastSuccess) >= since;
  }
}
