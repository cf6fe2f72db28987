/**
 * A per-IP counter store in Redis: rate-limit-redis's, which counts with two Lua scripts
 * it loads (SCRIPT LOAD) when the limiter is set up and keeps as promises of their SHA1.
 * It reloads a script Redis has forgotten (NOSCRIPT, after a restart), but a load that
 * failed (Redis away at that moment) stays a rejected promise, and every count after it
 * fails for ever, Redis back or not. Here a failed load is remembered and retried by the
 * next count, so the limit comes back with Redis.
 */
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { ClientRateLimitInfo, IncrementResponse } from 'express-rate-limit';
import type { RedisClient } from './client.js';

export class RedisRateLimitStore extends RedisStore {
  // Not a #private field: the store is used through the outage guard's Proxy, and express-rate-limit
  // calls init() on that, so `this` is then the Proxy, which has no private slots.
  private loadFailed = false;

  constructor(client: RedisClient, prefix: string) {
    super({ sendCommand: (...args: string[]) => client.sendCommand<RedisReply>(args), prefix });
  }

  override loadIncrementScript(key?: string): Promise<string> {
    return this.remember(super.loadIncrementScript(key));
  }

  override loadGetScript(key?: string): Promise<string> {
    return this.remember(super.loadGetScript(key));
  }

  override async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    this.reloadIfFailed();
    return super.get(key);
  }

  override async increment(key: string): Promise<IncrementResponse> {
    this.reloadIfFailed();
    return super.increment(key);
  }

  private remember(loading: Promise<string>): Promise<string> {
    // Marked handled: a script nobody counts with yet must not be an unhandled rejection.
    loading.catch(() => (this.loadFailed = true));
    return loading;
  }

  private reloadIfFailed(): void {
    if (!this.loadFailed) return;
    this.loadFailed = false;
    this.incrementScriptSha = this.loadIncrementScript();
    this.getScriptSha = this.loadGetScript();
  }
}
