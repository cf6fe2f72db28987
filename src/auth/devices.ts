/**
 * Known devices (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a
 * browser that signed in to an account (password or passkey) is a known device of it
 * for DEVICE_TRUST_MS, and the lockout counts its failures apart from everyone else's
 * (lockout.ts), so a campaign against the account never locks its owner's devices out.
 *
 * The cookie holds one random token per browser (32 bytes) with an HMAC-SHA256 under the
 * session secret; the store keeps only the token's SHA-256, paired with each account the
 * browser is a known device of. The signature lets a forged or mangled cookie be told
 * apart without a store read, and its own label ("device:") keeps a signature made for
 * another cookie from passing here. Each sign-in issues a fresh token and moves the
 * browser's accounts to it (DeviceTokenStore.trust), as the session id is renewed: a
 * token planted in the browser, or copied from it, stops being known at the next sign-in,
 * and only a sign-in adds an account to a token. (Two tabs signing in to two accounts at
 * the same moment renew the token twice; the browser keeps one cookie, so one of the two
 * accounts may find it unknown until its next sign-in: safe, only less convenient.) The
 * cookie is httpOnly, SameSite=Lax, Secure in production, and lives as long as the trust.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { DEVICE_TRUST_MS, type DeviceTokenStore } from '../storage/ports.js';

export const DEVICE_COOKIE_NAME = 'captcha_login.device';

export interface DevicesOptions {
  store: DeviceTokenStore;
  /** The session secret(s): the first signs, all verify. */
  secret: string | string[];
  /** Secure cookie (HTTPS only); on in production. */
  secure: boolean;
  clock: () => number;
}

export interface Devices {
  /** This client's device id (its token's hash) when it is a known device of the account; undefined otherwise. */
  deviceFor(req: Request, accountId: number): Promise<string | undefined>;
  /**
   * Whether the request carries a device cookie this server signed (no store read): a hint
   * that it is a known device of some account, for pages that cannot know which account
   * will be typed. Never a reason to skip a check: that takes deviceFor.
   */
  presents(req: Request): boolean;
  /** After a successful sign-in: makes (or keeps) this browser a known device of the account, with a fresh token. */
  trust(req: Request, res: Response, accountId: number): Promise<void>;
  /** Forgets every device of the account (npm run devices:revoke). */
  revokeAll(accountId: number): Promise<void>;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function createDevices({ store, secret, secure, clock }: DevicesOptions): Devices {
  const secrets = Array.isArray(secret) ? secret : [secret];
  const signatureOf = (token: string, key: string) => createHmac('sha256', key).update(`device:${token}`).digest('base64url');
  const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

  /** The token of a cookie this server signed, else undefined (absent, forged, mangled). */
  const tokenOf = (req: Request): string | undefined => {
    const value: unknown = (req.cookies as Record<string, unknown> | undefined)?.[DEVICE_COOKIE_NAME];
    if (typeof value !== 'string') return undefined;
    const [token = '', signature = ''] = value.split('.');
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const given = Buffer.from(signature);
    const valid = secrets.some((key) => {
      const expected = Buffer.from(signatureOf(token, key));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    return valid ? token : undefined;
  };

  const deviceFor = async (req: Request, accountId: number) => {
    const token = tokenOf(req);
    if (token === undefined) return undefined;
    const hash = hashOf(token);
    return (await store.knows(hash, accountId, clock())) ? hash : undefined;
  };

  return {
    deviceFor,
    presents: (req) => tokenOf(req) !== undefined,

    async trust(req, res, accountId) {
      const previous = tokenOf(req);
      const token = randomBytes(32).toString('base64url');
      const now = clock();
      await store.trust(hashOf(token), accountId, now + DEVICE_TRUST_MS, now, previous && hashOf(previous));
      res.cookie(DEVICE_COOKIE_NAME, `${token}.${signatureOf(token, secrets[0] ?? '')}`, {
        httpOnly: true,
        sameSite: 'lax',
        secure,
        maxAge: DEVICE_TRUST_MS,
        path: '/',
      });
    },

    revokeAll: (accountId) => store.revokeAll(accountId, clock()),
  };
}
