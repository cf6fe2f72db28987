/**
 * Known devices in Redis. A token's hash is a key whose fields are the accounts it is a
 * known device of, each "expiresAt:epoch", and the key expires with its last pair.
 * Revoking all of an account's devices raises the account's epoch (a key kept until the
 * last pair trusted under an older one has expired), so a pair from before it is no
 * longer known, without finding every token that holds the account. Both trust and
 * knows are one script each (scripts.ts).
 */
import { DEVICE_TRUST_MS, type DeviceTokenStore } from '../ports.js';
import type { RedisClient } from './client.js';
import { KNOWS_DEVICE, TRUST_DEVICE } from './scripts.js';

/** How much longer than its pairs an epoch is kept: other instances' clocks may run a little ahead. */
const EPOCH_MARGIN_MS = 24 * 60 * 60_000;

export class RedisDeviceTokenStore implements DeviceTokenStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  #tokenKey(tokenHash: string): string {
    return `${this.prefix}device:${tokenHash}`;
  }

  #epochKey(accountId: number): string {
    return `${this.prefix}device-epoch:${accountId}`;
  }

  async trust(tokenHash: string, accountId: number, expiresAt: number, now: number, previousHash?: string): Promise<void> {
    await this.client.eval(TRUST_DEVICE, {
      keys: [this.#tokenKey(tokenHash), this.#tokenKey(previousHash ?? tokenHash), this.#epochKey(accountId)],
      arguments: [String(accountId), String(expiresAt), String(now), String(expiresAt + EPOCH_MARGIN_MS)],
    });
  }

  async knows(tokenHash: string, accountId: number, now: number): Promise<boolean> {
    const known = await this.client.eval(KNOWS_DEVICE, { keys: [this.#tokenKey(tokenHash), this.#epochKey(accountId)], arguments: [String(accountId), String(now)] });
    return known === 1;
  }

  async revoke(tokenHash: string, accountId: number): Promise<void> {
    await this.client.hDel(this.#tokenKey(tokenHash), String(accountId));
  }

  async revokeAll(accountId: number, now: number): Promise<void> {
    const key = this.#epochKey(accountId);
    // Kept while any pair trusted before now may live; trust() extends it for newer ones.
    await this.client.multi().incr(key).pExpireAt(key, now + DEVICE_TRUST_MS + EPOCH_MARGIN_MS).exec();
  }
}
