/**
 * The chaos run's people: each has a browser of their own, a network of their own and the
 * accounts they made, and does what people do, one step after another: sign up, sign in
 * (mostly with the right password), add a passkey and sign in with it (a software
 * authenticator), sign out, look at captcha pictures. They follow the retry rule: a 503 is
 * sent again as it was; when that retry is refused for its captcha (spent by the try that
 * got 503) they do what the page does: load a new picture and send the same details with it.
 *
 * Everything they were told goes into the History that the invariants are checked against.
 */
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { SoftwareAuthenticator } from '../authenticator.js';
import { Browser, formOf, type Answer } from './browser.js';
import type { Random } from './random.js';

export const ORIGIN = 'http://localhost:3000';
const RP_ID = 'localhost';
/** How many new pictures a form post may need before the person gives up on it. */
const MAX_CAPTCHA_RELOADS = 6;
/** How often a passkey ceremony is started again after its challenge was spent by a 503'd try. */
const MAX_CEREMONIES = 4;

export interface Account {
  username: string;
  password: string;
  owner: Person;
  passkeys: SoftwareAuthenticator[];
  /** Wrong passwords answered 401 (failures the person really made), in all and since the last success from their network. */
  wrongAnswered: number;
  /** Sign-ins of this name answered 401, right password or not: all real failures when the account was never made. */
  answered401: number;
  wrongSinceSuccess: number;
}

export interface Person {
  index: number;
  browser: Browser;
  random: Random;
  accounts: Account[];
  signedIn?: Account;
}

export interface SignUpRecord {
  username: string;
  password: string;
  saw503: number;
  final: number;
  code?: string;
}

export interface SignInRecord {
  username: string;
  way: 'password' | 'passkey';
  right: boolean;
  saw503: number;
  final: number;
  code?: string;
  /** The account's failures since its last success from this network when it was answered. */
  realFailures: number;
}

export interface PasskeyAddRecord {
  username: string;
  credentialId: string;
  saw503: number;
  final: number;
  code?: string;
  /** Answered 503 (and its retry refused), but a new ceremony showed it stored. */
  storedAfter503: boolean;
}

export interface History {
  signUps: SignUpRecord[];
  signIns: SignInRecord[];
  passkeyAdds: PasskeyAddRecord[];
  /** Session cookies answered "signed out", and by which instance. */
  signedOut: Array<{ cookie: string; username: string }>;
  /** Per captcha picture (its key): how many posts it was accepted for. */
  captchaAccepted: Map<string, number>;
  /** A post sent again as it was after a 503 and refused for its (spent) captcha. */
  retryRefusedForCaptcha: number;
  /** A first post with the answer of a picture answered 200 refused as missing: that challenge was never kept. */
  pictureNotKept: number;
  /** Still 503 when the retry deadline came. */
  gaveUp: Array<{ kind: string }>;
  replays: number;
}

export function newHistory(): History {
  return { signUps: [], signIns: [], passkeyAdds: [], signedOut: [], captchaAccepted: new Map(), retryRefusedForCaptcha: 0, pictureNotKept: 0, gaveUp: [], replays: 0 };
}

const WORDS = [
  'amber', 'bishop', 'canyon', 'dolphin', 'ember', 'falcon', 'glacier', 'harbor', 'indigo', 'juniper', 'kettle', 'lantern',
  'marble', 'nutmeg', 'orchid', 'pepper', 'quartz', 'raven', 'saddle', 'thistle', 'umber', 'velvet', 'walnut', 'yonder',
  'zephyr', 'bramble', 'cobalt', 'drizzle', 'fennel', 'gossamer', 'hollow', 'kindle', 'meadow', 'pebble', 'rustle', 'sorrel',
];

function passphrase(random: Random): string {
  return `${random.pick(WORDS)} ${random.pick(WORDS)} ${random.pick(WORDS)} ${random.int(100, 999)}`;
}

/** Passes the captcha: anything but a refusal before it (503, a captcha answer, a malformed post). */
function passedCaptcha(answer: Answer): boolean {
  if (answer.status >= 200 && answer.status < 300) return true;
  if (answer.status === 401 || answer.status === 409) return true;
  return answer.status === 400 && ['weak_password', 'invalid_username', 'invalid_password'].includes(answer.code ?? '');
}

export class People {
  #names = 0;

  constructor(
    readonly history: History,
    readonly runTag: string,
  ) {}

  newAccountName(person: Person): string {
    this.#names += 1;
    return `c${this.runTag}p${person.index}n${this.#names}`;
  }

  /**
   * Opens `page`, answers its captcha and posts `fields`, under the retry rule. Returns the
   * final answer, how many 503s it met, or undefined when the form never opened.
   */
  async formPost(person: Person, page: '/login' | '/register', fields: { username: string; password: string }, double = false): Promise<(Answer & { saw503: number }) | undefined> {
    const { browser } = person;
    const opened = await browser.open(page);
    const form = opened && formOf(opened.html);
    if (!form) return undefined;
    let picture = await browser.picture(form.slot);
    let saw503 = 0;
    let reloads = 0;
    const kind = page === '/login' ? 'sign-in' : 'sign-up';
    let retried = false;
    let tokenRenewed = false;
    while (picture) {
      const body = { ...fields, captcha: picture.answer, captchaId: form.slot, ...(form.signupKey ? { signupKey: form.signupKey } : {}) };
      const spec = { path: page, json: body, headers: { 'x-csrf-token': browser.csrf } };
      // A double click: the same post from another tab of this browser, to another instance, at once.
      const twin = double && !retried ? browser.clone() : undefined;
      const [answer, twinAnswer] = await Promise.all([browser.send(kind, spec), twin?.send(kind, { ...spec, instance: undefined })]);
      this.#accepted(picture.key, answer);
      if (twinAnswer) {
        this.#accepted(picture.key, twinAnswer);
        this.history.replays += 1;
        this.#countWrong(person, page, fields, twinAnswer);
      }
      if (answer.status === 503) {
        saw503 += 1;
        if (Date.now() > browser.world.retryDeadline()) {
          this.history.gaveUp.push({ kind });
          return { ...answer, saw503 };
        }
        await browser.waitToRetry(answer);
        retried = true;
        // Sending it again is a new click: the page may renew its token once more.
        tokenRenewed = false;
        continue;
      }
      // The page fetches a fresh form token once per click and sends the post again (the
      // captcha is not spent by it). When none comes (a store still out), the person sees
      // the error and clicks again after a moment, as after a 503.
      if (answer.code === 'csrf_failed' && !tokenRenewed) {
        tokenRenewed = true;
        if (await browser.renewToken()) continue;
        if (Date.now() <= browser.world.retryDeadline()) {
          await browser.waitToRetry(answer);
          tokenRenewed = false;
          continue;
        }
      }
      if (answer.status === 400 && answer.code?.startsWith('captcha_') && reloads < MAX_CAPTCHA_RELOADS) {
        if (retried) this.history.retryRefusedForCaptcha += 1;
        // A double click's twin that got there first spent it: that is the ledger working.
        else if (!(twinAnswer && passedCaptcha(twinAnswer))) this.history.pictureNotKept += 1;
        reloads += 1;
        retried = false;
        picture = await browser.picture(form.slot);
        continue;
      }
      this.#countWrong(person, page, fields, answer);
      return { ...answer, saw503 };
    }
    return undefined;
  }

  #accepted(key: string, answer: Answer): void {
    if (passedCaptcha(answer)) this.history.captchaAccepted.set(key, (this.history.captchaAccepted.get(key) ?? 0) + 1);
  }

  #countWrong(person: Person, page: string, fields: { username: string; password: string }, answer: Answer): void {
    const account = person.accounts.find((a) => a.username === fields.username);
    if (page !== '/login' || !account) return;
    if (answer.status === 401) account.answered401 += 1;
    if (answer.status === 401 && fields.password !== account.password) {
      account.wrongAnswered += 1;
      account.wrongSinceSuccess += 1;
    }
    if (answer.status === 200) account.wrongSinceSuccess = 0;
  }

  async signUp(person: Person): Promise<void> {
    const username = this.newAccountName(person);
    const password = passphrase(person.random);
    const answer = await this.formPost(person, '/register', { username, password });
    if (!answer) return;
    this.history.signUps.push({ username, password, saw503: answer.saw503, final: answer.status, code: answer.code });
    if (answer.status === 201 || answer.saw503 > 0) {
      // Made, or perhaps made: the person keeps it (the invariants decide which).
      const account: Account = { username, password, owner: person, passkeys: [], wrongAnswered: 0, answered401: 0, wrongSinceSuccess: 0 };
      person.accounts.push(account);
      if (answer.status === 201) person.signedIn = account;
    }
  }

  async signIn(person: Person, account: Account, right: boolean, double: boolean): Promise<void> {
    const password = right ? account.password : `${account.password} typo`;
    const realFailures = account.wrongSinceSuccess;
    const answer = await this.formPost(person, '/login', { username: account.username, password }, double);
    if (!answer) return;
    this.history.signIns.push({ username: account.username, way: 'password', right, saw503: answer.saw503, final: answer.status, code: answer.code, realFailures });
    if (answer.status === 200) person.signedIn = account;
  }

  /** The home page's form token, or undefined when the browser is not signed in. */
  async home(person: Person): Promise<boolean> {
    const page = await person.browser.open('/');
    if (page?.status !== 200) {
      if (page?.status === 303) person.signedIn = undefined;
      return false;
    }
    return true;
  }

  async addPasskey(person: Person): Promise<void> {
    const account = person.signedIn;
    if (!account || !(await this.home(person))) return;
    const { browser } = person;
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    let saw503 = 0;
    for (let ceremony = 0; ceremony < MAX_CEREMONIES; ceremony += 1) {
      const options = await browser.call('passkey-add-options', { path: '/passkeys/options', json: {}, headers: { 'x-csrf-token': browser.csrf } });
      if (options.status !== 200) return;
      const creation = options.body?.options as PublicKeyCredentialCreationOptionsJSON;
      if (saw503 > 0 && creation.excludeCredentials?.some((credential) => credential.id === authenticator.id)) {
        // The try answered 503 was stored after all; the browser would now say it exists.
        this.history.passkeyAdds.push({ username: account.username, credentialId: authenticator.id, saw503, final: 503, storedAfter503: true });
        account.passkeys.push(authenticator);
        return;
      }
      const answer = await browser.call('passkey-add', { path: '/passkeys', json: { name: `Key ${authenticator.id.slice(0, 6)}`, response: authenticator.register(creation) }, headers: { 'x-csrf-token': browser.csrf } });
      saw503 += answer.saw503;
      if (answer.status === 400 && answer.code === 'passkey_expired' && answer.saw503 > 0) continue;
      this.history.passkeyAdds.push({ username: account.username, credentialId: authenticator.id, saw503, final: answer.status, code: answer.code, storedAfter503: false });
      if (answer.status === 201) account.passkeys.push(authenticator);
      return;
    }
  }

  async passkeySignIn(person: Person, account: Account, authenticator: SoftwareAuthenticator): Promise<void> {
    const { browser } = person;
    if (!(await browser.open('/login'))) return;
    const realFailures = account.wrongSinceSuccess;
    let saw503 = 0;
    for (let ceremony = 0; ceremony < MAX_CEREMONIES; ceremony += 1) {
      const options = await browser.call('passkey-options', { path: '/passkeys/sign-in/options', json: {}, headers: { 'x-csrf-token': browser.csrf } });
      if (options.status !== 200) return;
      const response = authenticator.assert(options.body?.options as PublicKeyCredentialRequestOptionsJSON, RP_ID);
      const answer = await browser.call('passkey-sign-in', { path: '/passkeys/sign-in', json: { response }, headers: { 'x-csrf-token': browser.csrf } });
      saw503 += answer.saw503;
      // The 503'd try spent the challenge: the page starts the ceremony again.
      if (answer.status === 400 && answer.code === 'passkey_expired' && answer.saw503 > 0) continue;
      this.history.signIns.push({ username: account.username, way: 'passkey', right: true, saw503, final: answer.status, code: answer.code, realFailures });
      if (answer.status === 200) {
        person.signedIn = account;
        account.wrongSinceSuccess = 0;
      }
      return;
    }
  }

  /**
   * Signs out from the home page; meanwhile (half the time) another tab loads a picture
   * with the same session at another instance, which would write the session back if a
   * destroyed one could be written. A session answered "signed out" goes into the history.
   */
  async signOut(person: Person): Promise<void> {
    const account = person.signedIn;
    if (!account || !(await this.home(person))) return;
    const { browser } = person;
    const cookie = browser.sessionCookie;
    const tab = person.random.chance(0.5) ? browser.clone() : undefined;
    const [answer] = await Promise.all([
      browser.call('sign-out', { path: '/logout', raw: { body: new URLSearchParams({ _csrf: browser.csrf }).toString(), contentType: 'application/x-www-form-urlencoded' } }),
      tab?.send('picture', { path: `/get_validCode_img?id=tab${person.index}`, headers: { accept: 'image/png' } }),
    ]);
    const signedOut = answer.status === 200 && answer.body?.ok === true && answer.body.redirect === '/login';
    if (signedOut && cookie) this.history.signedOut.push({ cookie, username: account.username });
    if (signedOut) person.signedIn = undefined;
  }

  async lookAtPicture(person: Person): Promise<void> {
    await person.browser.picture(`look${person.random.int(1, 3)}`);
  }
}
