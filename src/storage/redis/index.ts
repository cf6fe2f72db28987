/**
 * The Redis back-end (REDIS_URL): what many processes must share at once and what
 * expires by itself: sessions, the per-IP counters, the lockout's counts and known
 * devices, the spent-challenge ledger, the issued WebAuthn challenges and attack mode's
 * counters. Every key starts with the configured prefix and carries its expiry, so Redis
 * prunes them all.
 */
import type { AttackSignalStore, DeviceTokenStore, FailedLoginStore, RateLimitStoreFactory, SpentChallengeLedger, WebAuthnChallengeStore } from '../ports.js';
import { RedisAttackSignalStore } from './attack-signals.js';
import { connectRedis, type RedisClient } from './client.js';
import { RedisDeviceTokenStore } from './device-tokens.js';
import { RedisFailedLoginStore } from './failed-logins.js';
import { RedisRateLimitStore } from './rate-limit-store.js';
import { RedisSessionStore } from './session-store.js';
import { RedisSpentChallengeLedger } from './spent-challenges.js';
import { RedisWebAuthnChallengeStore } from './webauthn-challenges.js';

export interface RedisStores {
  client: RedisClient;
  sessionStore: RedisSessionStore;
  failedLogins: FailedLoginStore;
  deviceTokens: DeviceTokenStore;
  spentChallenges: SpentChallengeLedger;
  webauthnChallenges: WebAuthnChallengeStore;
  attackSignals: AttackSignalStore;
  rateLimitStore: RateLimitStoreFactory;
  ping: () => Promise<void>;
  close: () => Promise<void>;
}

export async function openRedisStores(url: string, prefix: string, onError: (err: unknown) => void): Promise<RedisStores> {
  const client = await connectRedis(url, onError);
  // One store and one prefix per limiter: express-rate-limit refuses a shared store.
  const rateLimitStore: RateLimitStoreFactory = (name) => new RedisRateLimitStore(client, `${prefix}rl:${name}:`);
  return {
    client,
    sessionStore: new RedisSessionStore(client, prefix),
    failedLogins: new RedisFailedLoginStore(client, prefix),
    deviceTokens: new RedisDeviceTokenStore(client, prefix),
    spentChallenges: new RedisSpentChallengeLedger(client, prefix),
    webauthnChallenges: new RedisWebAuthnChallengeStore(client, prefix),
    attackSignals: new RedisAttackSignalStore(client, prefix),
    rateLimitStore,
    ping: async () => {
      await client.ping();
    },
    close: async () => {
      // close() lets sent commands finish; a client that is down (reconnecting) is just stopped.
      if (client.isReady) await client.close();
      else if (client.isOpen) client.destroy();
    },
  };
}
