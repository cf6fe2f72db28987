/**
 * The spent-challenge ledger in Redis: one key per claimed id, set with SET NX, so of
 * any number of concurrent claims from any number of processes exactly one sets it.
 * The key expires with its challenge, and not before a minute has passed, so that a
 * process whose clock runs behind cannot see a claim vanish early.
 */
import type { SpentChallengeLedger } from '../ports.js';
import { keepUntil, type RedisClient } from './client.js';

export class RedisSpentChallengeLedger implements SpentChallengeLedger {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  async claim(id: string, expiresAt: number): Promise<boolean> {
    const reply = await this.client.set(`${this.prefix}spent:${id}`, '1', {
      condition: 'NX',
      expiration: keepUntil(expiresAt),
    });
    return reply === 'OK';
  }
}
