/**
 * Passkeys: a way in that needs no puzzle and no password (WCAG 3.3.8), with
 * @simplewebauthn/server doing the WebAuthn verification.
 *
 * The model:
 * - A signed-in person adds a passkey (a discoverable credential, user verification
 *   required) and may list and remove theirs. Credentials live in the storage layer's
 *   PasskeyRepository, beside the accounts; never in the session. Adding one needs a
 *   recent sign-in (RECENT_SIGN_IN_MS): a passkey outlives the session and any password
 *   change, so a stolen or unattended session must not be able to plant one. Removing
 *   needs only the session: it takes a way in away and never adds one, and it is what
 *   the owner does after losing a device.
 * - Every ceremony starts with a challenge the server makes and keeps in the
 *   WebAuthnChallengeStore with what it is for (sign-in, or adding a passkey to one
 *   account) and its expiry. A response names its challenge inside the signed
 *   clientDataJSON; the server takes that challenge from the store (the first response
 *   naming it gets it, every later one nothing, on any instance), checks purpose, account
 *   and expiry, and only then verifies the response against it. So a challenge is good
 *   once, and a replayed response is refused before any signature work.
 * - Signing in: the credential id picks the account; a locked device or network (by
 *   password failures, lockout.ts) is refused exactly like a wrong assertion, but the
 *   account's untrusted budget never refuses a passkey, and a failed assertion counts
 *   nowhere. Counting it would add no protection (an assertion cannot be guessed: it
 *   needs the private key) and would hand anyone who learnt a credential id, which is
 *   no secret, a lever to lock the account's password sign-ins without solving a single
 *   picture; the per-IP limits bound how often anyone may try. The signature counter
 *   must move forward (or stay 0 on authenticators that keep none); the new value is
 *   stored with one conditional update. A successful sign-in makes the browser a known
 *   device of the account, as a password one does (devices.ts).
 * - The relying party is the public origin: PUBLIC_ORIGIN when set (required in
 *   production), else the origin the request came to (development and tests, e.g.
 *   http://localhost:3000; browsers allow WebAuthn on localhost without HTTPS, but not on
 *   an IP address such as 127.0.0.1).
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { decodeClientDataJSON, isoBase64URL, isoUint8Array } from '@simplewebauthn/server/helpers';
import { z } from 'zod';
import { RefusedError } from '../errors.js';
import type { SignInResult } from '../metrics/metrics.js';
import { signedInRecently } from '../session/timeouts.js';
import type { SignedInUser } from '../session/types.js';
import { PasskeyTakenError, type Passkey, type PasskeyRepository, type WebAuthnChallenge, type WebAuthnChallengeStore } from '../storage/ports.js';
import { countedAs, type Lockout } from './lockout.js';

export const passkeysEnv = z
  .object({
    NODE_ENV: z.string().optional(),
    PUBLIC_ORIGIN: z
      .url({ protocol: /^https?$/, message: 'must be an http:// or https:// origin, e.g. https://login.example.com' })
      // zod runs this after a failed URL check too, so it must not throw on a non-URL.
      .refine((value) => !URL.canParse(value) || new URL(value).origin === value.replace(/\/$/, ''), 'must be an origin only: scheme, host and port, no path')
      .optional(),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && env.PUBLIC_ORIGIN === undefined) {
      ctx.addIssue({ code: 'custom', path: ['PUBLIC_ORIGIN'], message: 'is required when NODE_ENV=production (the https:// origin people sign in at)' });
    }
  })
  .transform((env): PasskeyConfig => ({ origin: env.PUBLIC_ORIGIN && new URL(env.PUBLIC_ORIGIN).origin }));

export interface PasskeyConfig {
  /** The public origin (scheme://host[:port]); undefined: the origin each request came to. */
  origin: string | undefined;
}

/** How long a challenge stays good: WebAuthn's recommended ceremony timeout. */
export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60_000;
/** Passkeys one account may have: enough for every device, and a bound on the table (the passkey_limit message says 10). */
export const MAX_PASSKEYS_PER_ACCOUNT = 10;
export const PASSKEY_NAME_MAX_LENGTH = 64;

/** Where the ceremony happens: the origin the browser reports, and the RP ID (its host name). */
export interface Site {
  origin: string;
  rpId: string;
}

export function siteOf(origin: string): Site {
  return { origin, rpId: new URL(origin).hostname };
}

export interface PasskeysDeps {
  repository: PasskeyRepository;
  challenges: WebAuthnChallengeStore;
  lockout: Lockout;
  rpName: string;
  clock: () => number;
  /** Told each sign-in's verdict (the app's metrics); a store failing is none. */
  onSignIn?: (result: SignInResult) => void;
}

export interface Passkeys {
  list(userId: number): Promise<Passkey[]>;
  /** Options for adding a passkey to the account (its existing ones excluded); needs a recent sign-in. */
  registrationOptions(user: SignedInUser, site: Site): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** Verifies a new passkey's response and stores it under `name`; needs a recent sign-in. */
  register(user: SignedInUser, response: RegistrationResponseJSON, name: string, site: Site): Promise<Passkey>;
  /** Options for signing in with any passkey of this site (discoverable credentials). */
  authenticationOptions(site: Site): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** Verifies a sign-in response from `client`; resolves to the account it signs in. */
  authenticate(response: AuthenticationResponseJSON, site: Site, client: PasskeyClient): Promise<{ id: number; username: string }>;
  /** Removes the account's passkey; false when it has none of that id. */
  remove(userId: number, id: string): Promise<boolean>;
}

/** Where a passkey sign-in comes from: its network, and its device id if it is a known device of the account (devices.ts). */
export interface PasskeyClient {
  network: string;
  deviceFor: (accountId: number) => Promise<string | undefined>;
}

/** The WebAuthn user handle of an account: its id, which says nothing about the person. */
const userHandleOf = (userId: number) => isoUint8Array.fromUTF8String(String(userId));

export function createPasskeys({ repository, challenges, lockout, rpName, clock, onSignIn = () => {} }: PasskeysDeps): Passkeys {
  async function issue(options: { challenge: string }, purpose: WebAuthnChallenge['purpose'], userId?: number): Promise<void> {
    await challenges.put(options.challenge, { purpose, userId, expiresAt: clock() + PASSKEY_CHALLENGE_TTL_MS });
  }

  /** Takes the challenge a response names; refuses one never issued, spent, expired or for something else. */
  async function take(clientDataJSON: string, purpose: WebAuthnChallenge['purpose'], userId?: number): Promise<string> {
    let challenge: string;
    try {
      challenge = decodeClientDataJSON(clientDataJSON).challenge;
    } catch {
      throw new RefusedError('invalid_request', 'invalid', { reason: 'clientDataJSON is not valid' });
    }
    if (typeof challenge !== 'string' || challenge === '') throw new RefusedError('invalid_request', 'invalid', { reason: 'no challenge in clientDataJSON' });
    const issued = await challenges.take(challenge);
    if (!issued) throw new RefusedError('passkey_expired', 'invalid', { reason: 'challenge unknown or already used' });
    if (issued.expiresAt <= clock()) throw new RefusedError('passkey_expired', 'invalid', { reason: 'challenge expired' });
    if (issued.purpose !== purpose || issued.userId !== userId) throw new RefusedError('passkey_expired', 'invalid', { reason: 'challenge issued for something else' });
    return challenge;
  }

  /** Refuses to add a passkey to a session whose sign-in is not recent. */
  function requireRecentSignIn(user: SignedInUser): void {
    const now = clock();
    if (!signedInRecently(user, now)) throw new RefusedError('reauth_required', 'forbidden', { reason: `signed in ${Math.round((now - user.signedInAt) / 1000)} s ago` });
  }

  return {
    list: (userId) => repository.listFor(userId),

    async registrationOptions(user, site) {
      requireRecentSignIn(user);
      const existing = await repository.listFor(user.id);
      if (existing.length >= MAX_PASSKEYS_PER_ACCOUNT) throw new RefusedError('passkey_limit', 'conflict', { reason: 'account has the most passkeys' });
      const options = await generateRegistrationOptions({
        rpName,
        rpID: site.rpId,
        userName: user.username,
        userID: userHandleOf(user.id),
        timeout: PASSKEY_CHALLENGE_TTL_MS,
        attestationType: 'none',
        excludeCredentials: existing.map((passkey) => ({ id: passkey.id, transports: passkey.transports })),
        // Discoverable, so it signs in without typing a username; verified (PIN, biometrics).
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      await issue(options, 'add-passkey', user.id);
      return options;
    },

    async register(user, response, name, site) {
      requireRecentSignIn(user);
      const challenge = await take(response.response.clientDataJSON, 'add-passkey', user.id);
      let verification;
      try {
        verification = await verifyRegistrationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: site.origin,
          expectedRPID: site.rpId,
          requireUserVerification: true,
        });
      } catch (err) {
        throw new RefusedError('passkey_not_added', 'invalid', { reason: (err as Error).message });
      }
      if (!verification.verified) throw new RefusedError('passkey_not_added', 'invalid', { reason: 'registration not verified' });
      const { credential } = verification.registrationInfo;
      const passkey: Passkey = {
        id: credential.id,
        userId: user.id,
        publicKey: credential.publicKey,
        counter: credential.counter,
        transports: credential.transports ?? [],
        name,
        createdAt: clock(),
        lastUsedAt: undefined,
      };
      try {
        // The limit is checked again in the insert itself: concurrent adds cannot pass it.
        if (!(await repository.add(passkey, MAX_PASSKEYS_PER_ACCOUNT))) throw new RefusedError('passkey_limit', 'conflict', { reason: 'account has the most passkeys' });
      } catch (err) {
        if (err instanceof PasskeyTakenError) throw new RefusedError('passkey_exists', 'conflict', { reason: 'credential id stored already' });
        throw err;
      }
      return passkey;
    },

    async authenticationOptions(site) {
      const options = await generateAuthenticationOptions({ rpID: site.rpId, timeout: PASSKEY_CHALLENGE_TTL_MS, userVerification: 'required' });
      await issue(options, 'sign-in');
      return options;
    },

    async authenticate(response, site, { network, deviceFor }) {
      const challenge = await take(response.response.clientDataJSON, 'sign-in');
      const passkey = await repository.find(response.id);
      const failed = (reason: string, result: 'failure' | 'locked' = 'failure') => {
        onSignIn(result);
        return new RefusedError('passkey_failed', 'unauthorized', { reason });
      };
      // An unknown credential names no account: nothing to count it against (the per-IP limits still do).
      if (!passkey) throw failed('unknown credential');
      const device = await deviceFor(passkey.userId);
      // Refused by its device's or network's lock only; the count it takes goes back whatever the outcome.
      const attempt = await lockout.begin({ account: countedAs({ id: passkey.userId }, passkey.username), network, device }, { passkey: true });
      if (!attempt) throw failed('locked', 'locked');
      try {
        const handle = response.response.userHandle;
        if (handle !== undefined && handle !== isoBase64URL.fromBuffer(userHandleOf(passkey.userId))) throw failed('user handle of another account');
        let verification;
        try {
          verification = await verifyAuthenticationResponse({
            response,
            expectedChallenge: challenge,
            expectedOrigin: site.origin,
            expectedRPID: site.rpId,
            credential: { id: passkey.id, publicKey: new Uint8Array(passkey.publicKey), counter: passkey.counter, transports: passkey.transports },
            requireUserVerification: true,
          });
        } catch (err) {
          throw failed((err as Error).message);
        }
        if (!verification.verified) throw failed('signature not verified');
        if (!(await repository.recordUse(passkey.id, verification.authenticationInfo.newCounter, clock()))) throw failed('counter did not move forward');
        await attempt.succeeded();
        onSignIn('success');
      } catch (err) {
        await attempt.abandon();
        throw err;
      }
      return { id: passkey.userId, username: passkey.username };
    },

    remove: (userId, id) => repository.remove(userId, id),
  };
}
