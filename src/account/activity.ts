/**
 * Recent activity: what happened to an account that its owner should be able to see
 * (sign-ins and failed ones, lockouts begun, passkeys, the second factor, the password,
 * sessions signed out, an operator's lock), the newest shown on the home page.
 *
 * Recording an event writes its row (the ActivityStore, kept with the accounts) and one
 * structured log line for operators. Neither ever holds a secret: the kind, the account
 * id, the client's network (/24 or /64, not its address) and a short detail (a sign-in's
 * method, a lock's scope, a passkey's name). When the row cannot be written the line says
 * so and record() rejects: the caller decides, and sign-in fails closed (503, nobody
 * signed in), so the log never lacks a sign-in that happened ("was this you?" relies on it).
 */
import type { Logger } from 'pino';
import type { MessageKey, Translate } from '../i18n/messages.js';
import { utcTimes } from '../i18n/time.js';
import type { ActivityStore, SecurityEvent, SecurityEventKind } from '../storage/ports.js';

/** How many events the home page shows. */
export const HOME_ACTIVITY_COUNT = 20;

/** What a feature tells: the kind, and what the kind gives meaning to. */
export interface ActivityEvent {
  kind: SecurityEventKind;
  /** The client's network (networkOf), when a client caused it. */
  network?: string | undefined;
  detail?: string | undefined;
}

export interface Activity {
  /**
   * Records the event of the account, now: its row and a log line on `log` (the
   * request's logger; a command line passes none, the operator's command is its own
   * record). Rejects (StoreUnavailableError) when the row could not be written.
   */
  record(userId: number, event: ActivityEvent, log?: Logger): Promise<void>;
  /** The account's newest events, newest first, as many as the home page shows. */
  latest(userId: number): Promise<SecurityEvent[]>;
}

export function createActivity(store: ActivityStore, clock: () => number = Date.now): Activity {
  return {
    async record(userId, { kind, network, detail }, log) {
      const fields = { securityEvent: { kind, userId, network, detail } };
      try {
        await store.record({ userId, kind, at: clock(), network, detail });
      } catch (err) {
        log?.warn({ ...fields, err }, 'security event not recorded');
        throw err;
      }
      log?.info(fields, 'security event');
    },
    latest: (userId) => store.latest(userId, HOME_ACTIVITY_COUNT),
  };
}

/** Each kind's sentence ({detail} stands for the event's detail). */
const SENTENCES: Record<SecurityEventKind, MessageKey> = {
  sign_in: 'activitySignIn',
  sign_in_failed: 'activitySignInFailed',
  sign_in_refused_locked: 'activitySignInRefusedLocked',
  lockout: 'activityLockout',
  passkey_added: 'activityPasskeyAdded',
  passkey_removed: 'activityPasskeyRemoved',
  totp_enabled: 'activityTotpEnabled',
  totp_disabled: 'activityTotpDisabled',
  recovery_codes_regenerated: 'activityRecoveryCodesRegenerated',
  password_changed: 'activityPasswordChanged',
  password_reset: 'activityPasswordReset',
  sessions_revoked: 'activitySessionsRevoked',
  account_locked: 'activityAccountLocked',
  account_unlocked: 'activityAccountUnlocked',
};

/** The sentences of the kinds whose detail tells more: a sign-in's method, a lock's scope. */
const BY_DETAIL: Partial<Record<SecurityEventKind, Record<string, MessageKey>>> = {
  sign_in: {
    password: 'activitySignInPassword',
    passkey: 'activitySignInPasskey',
    'password+totp': 'activitySignInTotp',
    'password+recovery_code': 'activitySignInRecoveryCode',
  },
  sign_in_failed: { code: 'activitySignInFailedCode', current_password: 'activityCurrentPasswordWrong' },
  lockout: { network: 'activityLockoutNetwork', device: 'activityLockoutDevice', account: 'activityLockoutAccount' },
};

/** What the home page shows of an event: its time (ISO, and as text in UTC for a page without scripts), what happened, and from where. */
export interface ActivityView {
  iso: string;
  utc: string;
  text: string;
  network: string | undefined;
}

export function activityView(event: SecurityEvent, locale: string, t: Translate): ActivityView {
  const key = BY_DETAIL[event.kind]?.[event.detail ?? ''] ?? SENTENCES[event.kind];
  const time = utcTimes(locale)(event.at);
  return {
    iso: time.iso,
    utc: time.text,
    text: t(key, { detail: event.detail ?? '' }),
    network: event.network,
  };
}
