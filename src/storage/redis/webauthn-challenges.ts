/**
 * Issued WebAuthn challenges in Redis: one key per challenge, holding what it was issued
 * for, expiring with it (and not before a minute has passed, so a process whose clock
 * runs behind cannot see it vanish early). take() is GETDEL: of any number of responses
 * naming one challenge, from any number of processes, exactly one gets it.
 */
import type { WebAuthnChallenge, WebAuthnChallengeStore } from '../ports.js';
import { keepUntil, type RedisClient } from './client.js';

export class RedisWebAuthnChallengeStore implements WebAuthnChallengeStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  async put(challenge: string, record: WebAuthnChallenge): Promise<void> {
    await this.client.set(this.#key(challenge), JSON.stringify(record), {
      expiration: keepUntil(record.expiresAt),
    });
  }

  async take(challenge: string): Promise<WebAuthnChallenge | undefined> {
    const value = await this.client.getDel(this.#key(challenge));
    if (value === null) return undefined;
    // JSON drops an undefined userId: give it back, so every back-end answers alike.
    const { purpose, userId, expiresAt } = JSON.parse(value) as WebAuthnChallenge;
    return { purpose, userId, expiresAt };
  }

  #key(challenge: string): string {
    return `${this.prefix}webauthn:${challenge}`;
  }
}
