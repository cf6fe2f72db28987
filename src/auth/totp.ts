/**
 * The TOTP second factor (RFC 6238): enrolment, recovery codes, and the check of a code
 * at sign-in. Codes are made and checked with otpauth, the enrolment's QR code drawn with
 * qrcode; the factor is kept through the TotpRepository port (with the accounts).
 *
 * - Secrets are 20 random bytes (RFC 4226's 160 bits), SHA-1, 6 digits, 30 s steps: the
 *   parameters every authenticator app reads from the otpauth:// URI.
 * - Enrolment: the route keeps the new secret in the session until a first code confirms
 *   it; the page echoes the secret it shows, so a confirmation from a page whose secret
 *   another tab has since replaced is refused (totp_enrolment_stale) instead of enabling
 *   a secret that page never showed. The repository enables one enrolment per account,
 *   atomically, so of two concurrent ones the second is refused (totp_already_enabled).
 * - A code is good for the step it was made for and one step either side (clock drift),
 *   and once: each step it matches is claimed as `totp:<account id>:<secret>:<step>` (the
 *   secret as a short SHA-256 fingerprint) in the spent-challenge ledger (Redis with
 *   REDIS_URL, so shared by every instance) and it is accepted only when every claim is
 *   new. Claiming every matching step (not just the first) keeps a code that happens to
 *   match two neighbouring steps from passing twice. The fingerprint keeps two enrolments
 *   of one account confirmed in the same 30 s from spending each other's step, so the
 *   repository's atomic insert alone decides which one wins.
 *   The ledger was chosen over a last-used-step column: it is already the app's one-time
 *   store, its entries expire by themselves, and a sign-in then writes nothing to the
 *   accounts database. Claims are kept CLAIM_MARGIN_MS past the last moment their step can
 *   match, so an instance whose clock runs behind cannot accept a spent step again.
 * - Recovery codes: 10 of 12 Crockford base32 characters (60 bits, shown as xxxx-xxxx-xxxx),
 *   shown once and stored as SHA-256 of the account id and the code; the repository
 *   spends one with a single DELETE, so a code used twice (even at once) passes once.
 * - Anything that adds, removes or replaces a way into the account (enrolling, disabling,
 *   new recovery codes) needs a sign-in within RECENT_SIGN_IN_MS, as adding a passkey
 *   does: a stolen or unattended session must not be able to plant a factor whose secret
 *   the thief knows (locking the owner out) or remove one.
 */
import { createHash, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { RefusedError } from '../errors.js';
import { signedInRecently } from '../session/timeouts.js';
import type { SpentChallengeLedger, TotpFactor, TotpRepository } from '../storage/ports.js';
import type { SignedInUser } from '../session/types.js';

const TOTP_PERIOD_SECONDS = 30;
const TOTP_DIGITS = 6;
/** Steps either side of the current one whose code is still accepted (clock drift). */
const TOTP_DRIFT_STEPS = 1;
export const RECOVERY_CODE_COUNT = 10;
/** The longest code field input read: a recovery code with dashes and spaces to spare. */
export const CODE_INPUT_MAX_LENGTH = 32;

const SECRET_BYTES = 20;
const PERIOD_MS = TOTP_PERIOD_SECONDS * 1000;
/** How much longer than its step can match a claim is kept: the clock difference between instances this tolerates. */
const CLAIM_MARGIN_MS = 5 * 60_000;
/** Crockford's base32: no i, l, o or u, so a code read aloud or copied by hand is not misread. */
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const RECOVERY_CODE_LENGTH = 12;

/** What a code field holds, once read: a TOTP code or a recovery code (normalised). */
export type CodeInput = { kind: 'totp'; token: string } | { kind: 'recovery'; code: string };

/**
 * Reads a code field: 6 digits are a TOTP code, 12 Crockford base32 characters a recovery
 * code (any case; spaces and dashes ignored; o read as 0, i and l as 1). Anything else
 * cannot be right and is undefined.
 */
export function parseCode(input: string): CodeInput | undefined {
  const compact = input.replace(/[\s-]/g, '').toLowerCase();
  if (new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(compact)) return { kind: 'totp', token: compact };
  const code = compact.replace(/o/g, '0').replace(/[il]/g, '1');
  if (code.length === RECOVERY_CODE_LENGTH && [...code].every((c) => RECOVERY_ALPHABET.includes(c))) return { kind: 'recovery', code };
  return undefined;
}

/** A new enrolment: the secret as base32 (to type), its otpauth:// URI, and the URI's QR code as a data: URL (SVG). */
export interface Enrolment {
  secret: string;
  uri: string;
  qrCode: string;
}

/** How a sign-in code went: accepted as a TOTP or a recovery code, not right, or right but spent already. */
export type CodeVerdict = 'totp' | 'recovery' | 'wrong' | 'used';

export interface TwoFactorOptions {
  repository: TotpRepository;
  ledger: SpentChallengeLedger;
  /** The issuer the authenticator app shows beside the account name. */
  issuer: string;
  clock: () => number;
}

export interface TwoFactor {
  /** The account's factor while enabled. */
  status(userId: number): Promise<TotpFactor | undefined>;
  /** A fresh secret for the account to enrol (nothing is stored); needs a recent sign-in. */
  newEnrolment(user: SignedInUser): Promise<Enrolment>;
  /**
   * Enables TOTP with the session's pending secret, confirmed by a code of it; `shown` is
   * the secret the page showed. Resolves the recovery codes, to be shown once. `record`
   * runs once it is on; when it throws, TOTP is turned off again (whatever the time: the
   * rule was checked when it was turned on) and the error is thrown.
   */
  confirm(user: SignedInUser, pending: string | undefined, shown: string, code: string, record?: () => Promise<void>): Promise<string[]>;
  /** Checks a sign-in code of the account, spending it when right. */
  verify(userId: number, input: CodeInput): Promise<CodeVerdict>;
  /**
   * Replaces the recovery codes with new ones, resolved to be shown once; needs a recent
   * sign-in. `record` runs before the replacement: when it throws, the old codes stay.
   */
  regenerateRecoveryCodes(user: SignedInUser, record?: () => Promise<void>): Promise<string[]>;
  /** Turns TOTP off; needs a recent sign-in. */
  disable(user: SignedInUser): Promise<void>;
}

/** The hash a recovery code is stored as: salted with its account, so equal codes of two accounts differ. */
export function recoveryCodeHash(userId: number, code: string): string {
  return createHash('sha256').update(`${userId}:${code}`).digest('hex');
}

/** How a recovery code is shown: xxxx-xxxx-xxxx. */
function formatRecoveryCode(code: string): string {
  return code.match(/.{1,4}/g)?.join('-') ?? code;
}

function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () =>
    Array.from({ length: RECOVERY_CODE_LENGTH }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join(''),
  );
}

const totpOf = (secret: string, issuer = '', label = 'account') =>
  new TOTP({ issuer, label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS });

export function createTwoFactor({ repository, ledger, issuer, clock }: TwoFactorOptions): TwoFactor {
  function requireRecentSignIn(user: SignedInUser): void {
    if (!signedInRecently(user, clock())) throw new RefusedError('totp_reauth_required', 'forbidden');
  }

  /** Spends a TOTP code of `secret`: 'totp' when it matches a step of the window none has spent, 'used' when one had. */
  async function spend(userId: number, secret: string, token: string): Promise<CodeVerdict> {
    const totp = totpOf(secret);
    const now = clock();
    const current = totp.counter({ timestamp: now });
    const steps: number[] = [];
    for (let step = current - TOTP_DRIFT_STEPS; step <= current + TOTP_DRIFT_STEPS; step += 1) {
      // One step at a time, each with otpauth's constant-time comparison.
      if (totp.validate({ token, timestamp: step * PERIOD_MS, window: 0 }) !== null) steps.push(step);
    }
    if (steps.length === 0) return 'wrong';
    const fingerprint = createHash('sha256').update(secret).digest('hex').slice(0, 16);
    const claims = await Promise.all(
      steps.map((step) => ledger.claim(`totp:${userId}:${fingerprint}:${step}`, (step + TOTP_DRIFT_STEPS + 1) * PERIOD_MS + CLAIM_MARGIN_MS)),
    );
    return claims.every(Boolean) ? 'totp' : 'used';
  }

  /** New recovery codes and their hashes for the account. */
  function recoveryCodesFor(userId: number): { codes: string[]; hashes: string[] } {
    const codes = newRecoveryCodes();
    return { codes: codes.map(formatRecoveryCode), hashes: codes.map((code) => recoveryCodeHash(userId, code)) };
  }

  return {
    status: (userId) => repository.find(userId),

    async newEnrolment(user) {
      requireRecentSignIn(user);
      const secret = new Secret({ size: SECRET_BYTES }).base32;
      const uri = totpOf(secret, issuer, user.username).toString();
      const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
      return { secret, uri, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
    },

    async confirm(user, pending, shown, code, record) {
      requireRecentSignIn(user);
      if (pending === undefined || pending !== shown) throw new RefusedError('totp_enrolment_stale', 'conflict');
      const input = parseCode(code);
      if (input?.kind !== 'totp') throw new RefusedError('totp_code_malformed', 'invalid');
      // Spent here too, so the code typed to confirm cannot be replayed to sign in.
      const verdict = await spend(user.id, pending, input.token);
      if (verdict === 'wrong') throw new RefusedError('totp_code_wrong', 'invalid');
      if (verdict === 'used') throw new RefusedError('totp_code_used', 'invalid');
      const { codes, hashes } = recoveryCodesFor(user.id);
      if (!(await repository.enable(user.id, pending, hashes, clock()))) throw new RefusedError('totp_already_enabled', 'conflict');
      try {
        await record?.();
      } catch (err) {
        // Straight to the repository: disable() would check the sign-in's age again, and a
        // confirmation whose record ran past it would leave TOTP on, unrecorded, its codes unseen.
        await repository.disable(user.id);
        throw err;
      }
      return codes;
    },

    async verify(userId, input) {
      if (input.kind === 'recovery') return (await repository.useRecoveryCode(userId, recoveryCodeHash(userId, input.code))) ? 'recovery' : 'wrong';
      const factor = await repository.find(userId);
      return factor ? spend(userId, factor.secret, input.token) : 'wrong';
    },

    async regenerateRecoveryCodes(user, record) {
      requireRecentSignIn(user);
      if (!(await repository.find(user.id))) throw new RefusedError('totp_not_enabled', 'conflict');
      // Recorded first: codes replaced but unrecorded could not be shown, and the person
      // would be left holding none. A replacement failing after its row leaves the old
      // codes and an event of one made too many, the safer side for the log.
      await record?.();
      const { codes, hashes } = recoveryCodesFor(user.id);
      if (!(await repository.replaceRecoveryCodes(user.id, hashes))) throw new RefusedError('totp_not_enabled', 'conflict');
      return codes;
    },

    async disable(user) {
      requireRecentSignIn(user);
      if (!(await repository.disable(user.id))) throw new RefusedError('totp_not_enabled', 'conflict');
    },
  };
}
