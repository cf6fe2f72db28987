/**
 * Two instances of the app on two ports, sharing the machine's Redis (a key prefix of
 * their own; or a redis-server of the test's own, to freeze) and PostgreSQL (a database of
 * their own), driven over real HTTP by one "browser" whose cookies go to both, as behind a
 * load balancer.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Challenge } from 'altcha-lib';
import pg from 'pg';
import { REFRESH_MS } from '../../src/attack/attack-mode.js';
import type { UserRepository } from '../../src/storage/ports.js';
import { build, serve, type BuildOptions, type TestApp } from '../helpers/build.js';
import { payPow } from '../helpers/pow.js';
import { codeAt } from '../helpers/two-factor.js';
import { TEST_REDIS_URL, ownRedis, postgresDatabase, redisPrefix } from '../helpers/services.js';
import { withOverrides } from '../helpers/overrides.js';

const alice = { username: 'alice', password: 'correct horse battery staple' };

type PostResult = { status: number; body: { ok: boolean; error?: { code: string; message: string } } };

/** A cookie jar over fetch, with the page's form token and sign-up key, as the page script keeps them. */
class Browser {
  readonly #cookies = new Map<string, string>();
  #csrf = '';
  #signupKey: string | undefined;

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#cookies.size > 0) headers.set('cookie', [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return res;
  }

  /** Opens a page; returns its captcha id when it has one. */
  async open(url: string): Promise<string | undefined> {
    const res = await this.fetch(url);
    assert.equal(res.status, 200, url);
    const html = await res.text();
    this.#csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1] ?? this.#csrf;
    this.#signupKey = /data-signup-key="([^"]+)"/.exec(html)?.[1];
    return /data-captcha-id="([^"]+)"/.exec(html)?.[1];
  }

  /** Loads the picture for `captchaId` at `base`; returns the answer that instance made. */
  async picture(instance: TestApp, base: string, captchaId: string): Promise<string> {
    const before = instance.answers.length;
    const res = await this.fetch(`${base}/get_validCode_img?id=${captchaId}`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(instance.answers.length, before + 1);
    return instance.answers.at(-1) as string;
  }

  async signIn(base: string, body: Record<string, string>): Promise<PostResult> {
    return this.post(`${base}/login`, body);
  }

  /** Sends the sign-up form with the key of the sign-up page last opened, as the page script does on every try. */
  async signUp(base: string, body: Record<string, string>): Promise<PostResult> {
    return this.post(`${base}/register`, { ...body, signupKey: this.#signupKey });
  }

  async post(url: string, body: Record<string, string | undefined>): Promise<PostResult> {
    const res = await this.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': this.#csrf },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as PostResult['body'] };
  }

  async signOut(base: string): Promise<number> {
    const res = await this.fetch(`${base}/logout`, { method: 'POST', body: new URLSearchParams({ _csrf: this.#csrf }) });
    return res.status;
  }

  /** Who the home page greets, or undefined when it sends the browser to sign in. */
  async signedInAs(base: string): Promise<string | undefined> {
    const res = await this.fetch(`${base}/`);
    if (res.status === 303) return undefined;
    return /Hello, ([^!]+)!/.exec(await res.text())?.[1];
  }
}

async function twoInstances(t: TestContext, options: BuildOptions = {}, redisUrl = TEST_REDIS_URL) {
  const storage = { redisUrl, redisKeyPrefix: redisPrefix(t), databaseUrl: await postgresDatabase(t) };
  const a = await build(t, { ...options, storage });
  const b = await build(t, { ...options, storage });
  await a.createUser(alice.username, alice.password);
  return { a, b, urlA: await serve(t, a), urlB: await serve(t, b), databaseUrl: storage.databaseUrl };
}

async function accountsNamed(databaseUrl: string, username: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE lower(username) = lower($1)', [username]);
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

test('two instances: a picture fetched at A is answered at B, and replaying the answer at A fails', async (t) => {
  const { a, urlA, urlB } = await twoInstances(t);
  const browser = new Browser();
  const captchaId = (await browser.open(`${urlA}/login`)) as string;
  const captcha = await browser.picture(a, urlA, captchaId);
  const first = await browser.signIn(urlB, { ...alice, captcha, captchaId });
  assert.deepEqual(first.body, { ok: true, redirect: '/' });

  const thief = new Browser();
  const id = (await thief.open(`${urlA}/login`)) as string;
  const answer = await thief.picture(a, urlA, id);
  assert.equal((await thief.signIn(urlB, { username: 'alice', password: 'wrong password here', captcha: answer, captchaId: id })).status, 401);
  const replay = await thief.signIn(urlA, { ...alice, captcha: answer, captchaId: id });
  assert.equal(replay.body.error?.code, 'captcha_missing', 'the challenge was spent at B');
});

test('two instances: of three simultaneous right answers over A and B exactly one passes', async (t) => {
  const { a, urlA, urlB } = await twoInstances(t);
  const browser = new Browser();
  const captchaId = (await browser.open(`${urlA}/login`)) as string;
  const captcha = await browser.picture(a, urlA, captchaId);
  const results = await Promise.all([urlA, urlB, urlA].map((base) => browser.signIn(base, { ...alice, captcha, captchaId })));
  assert.equal(results.filter((result) => result.body.ok).length, 1, JSON.stringify(results));
});

test('two instances: the lockout count and the per-IP post limit are shared', async (t) => {
  const { a, b, urlA, urlB } = await twoInstances(t, {
    lockout: { afterFailures: 2 },
    ipRateLimits: { postsPerMinute: 4, postsPerHour: 100, imagesPerMinute: 1_000, hintsPerMinute: 100 },
  });
  const attempt = async (instance: TestApp, base: string, password: string) => {
    const browser = new Browser();
    const captchaId = (await browser.open(`${base}/login`)) as string;
    const captcha = await browser.picture(instance, base, captchaId);
    return browser.signIn(base, { username: 'alice', password, captcha, captchaId });
  };
  assert.equal((await attempt(a, urlA, 'wrong password one')).status, 401);
  assert.equal((await attempt(b, urlB, 'wrong password two')).status, 401);
  const locked = await attempt(a, urlA, alice.password);
  assert.equal(locked.body.error?.code, 'bad_credentials', 'two failures over A and B locked the account at A');
  assert.equal((await attempt(b, urlB, alice.password)).status, 401, 'and at B');
  const limited = await attempt(a, urlA, alice.password);
  assert.equal(limited.status, 429, 'the fifth post from this address, over A and B, is over the limit of 4');
});

test('two instances: a session made at A is signed in at B, and signing out at A ends it at B', async (t) => {
  const { a, urlA, urlB } = await twoInstances(t);
  const browser = new Browser();
  const captchaId = (await browser.open(`${urlA}/login`)) as string;
  const captcha = await browser.picture(a, urlA, captchaId);
  assert.equal((await browser.signIn(urlA, { ...alice, captcha, captchaId })).body.ok, true);
  assert.equal(await browser.signedInAs(urlB), 'alice');
  await browser.open(`${urlA}/`);
  assert.equal(await browser.signOut(urlA), 303);
  assert.equal(await browser.signedInAs(urlB), undefined);
});

test('two instances: an enrolment started at A is confirmed at B, and a TOTP code used to sign in at A is refused at B', async (t) => {
  const { a, b, urlA, urlB } = await twoInstances(t);
  const signInWithPassword = async (browser: Browser, instance: TestApp, base: string) => {
    const captchaId = (await browser.open(`${base}/login`)) as string;
    const captcha = await browser.picture(instance, base, captchaId);
    return browser.signIn(base, { ...alice, captcha, captchaId });
  };
  const owner = new Browser();
  assert.equal((await signInWithPassword(owner, a, urlA)).body.ok, true);
  await owner.open(`${urlA}/account/two-factor`);
  const enrolment = (await owner.post(`${urlA}/account/two-factor/enrol`, {})).body as { html?: string };
  const secret = /data-secret="([A-Z2-7]+)"/.exec(enrolment.html ?? '')?.[1] ?? '';
  const confirmed = await owner.post(`${urlB}/account/two-factor/confirm`, { secret, code: codeAt(secret, b.clock.now()) });
  assert.equal(confirmed.status, 200, 'the pending secret is in the shared session');

  for (const instance of [a, b]) instance.clock.advance(30_000);
  const code = codeAt(secret, a.clock.now());
  const person = new Browser();
  assert.deepEqual((await signInWithPassword(person, a, urlA)).body, { ok: true, step: 'code' });
  assert.deepEqual((await person.post(`${urlA}/login/code`, { code })).body, { ok: true, redirect: '/' });
  const thief = new Browser();
  assert.deepEqual((await signInWithPassword(thief, b, urlB)).body, { ok: true, step: 'code' });
  const replayed = await thief.post(`${urlB}/login/code`, { code });
  assert.equal(replayed.status, 401);
  assert.equal(replayed.body.error?.code, 'totp_code_used');
  assert.equal(await thief.signedInAs(urlB), undefined);
});

test('two instances: a session signed out from another browser at A is signed out at its next request at B; a password changed at B signs out the rest at A', async (t) => {
  const { a, b, urlA, urlB } = await twoInstances(t);
  const signedIn = async (instance: TestApp, base: string) => {
    const browser = new Browser();
    const captchaId = (await browser.open(`${base}/login`)) as string;
    assert.equal((await browser.signIn(base, { ...alice, captcha: await browser.picture(instance, base, captchaId), captchaId })).body.ok, true);
    return browser;
  };
  const laptop = await signedIn(a, urlA);
  const phone = await signedIn(b, urlB);
  const tablet = await signedIn(b, urlB);
  assert.equal(await phone.signedInAs(urlB), 'alice');

  // The laptop's page at A lists the sessions made at B (its own row is marked aria-current); open() keeps the page's form token.
  const page = await (await laptop.fetch(`${urlA}/account/sessions`)).text();
  await laptop.open(`${urlA}/account/sessions`);
  const others = [...page.matchAll(/<tr class="session" data-session-id="([^"]+)">/g)].map((match) => match[1] as string);
  assert.equal(others.length, 2, 'the phone and the tablet');
  const results = await Promise.all(others.map((id) => laptop.post(`${urlA}/account/sessions/revoke`, { id })));
  assert.deepEqual(results.map((result) => result.status), [200, 200]);
  assert.equal(await phone.signedInAs(urlB), undefined, 'signed out at B at once');
  assert.equal(await tablet.signedInAs(urlA), undefined);
  assert.equal(await laptop.signedInAs(urlB), 'alice');

  const again = await signedIn(a, urlA);
  await laptop.open(`${urlB}/account/password`);
  const changed = await laptop.post(`${urlB}/account/password`, { current: alice.password, password: 'violet kettle drums at midnight', confirm: 'violet kettle drums at midnight' });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal(await again.signedInAs(urlA), undefined, 'the password change at B signed out the session at A');
  assert.equal(await laptop.signedInAs(urlA), 'alice', 'and kept its own');
});

test('two instances: a sign-up answered 503 after its account was made (Redis frozen) is completed by its retry at B, and by nobody else', { timeout: 30_000 }, async (t) => {
  const redis = await ownRedis(t);
  let freezeAfterCreate = false;
  // Holds the sign-up at a known point: the account is committed in PostgreSQL, and the
  // session write that signs the person in comes next.
  const users = (real: UserRepository): UserRepository =>
    withOverrides(real, {
      create: async (...args) => {
        const user = await real.create(...args);
        if (freezeAfterCreate) redis.freeze();
        return user;
      },
    });
  const { a, b, urlA, urlB, databaseUrl } = await twoInstances(t, { users }, redis.url);
  const newcomer = { username: 'newcomer', password: 'violet kettle drums at midnight' };
  const browser = new Browser();
  const captchaId = (await browser.open(`${urlA}/register`)) as string;

  freezeAfterCreate = true;
  const first = await browser.signUp(urlA, { ...newcomer, captcha: await browser.picture(a, urlA, captchaId), captchaId });
  freezeAfterCreate = false;
  redis.thaw();
  assert.equal(first.body.error?.code, 'store_unavailable', `503, got ${first.status} ${JSON.stringify(first.body)}`);
  assert.equal(await accountsNamed(databaseUrl, 'newcomer'), 1, 'the account was made before the 503: the finding');

  // The same page tries again at B (a new picture, the same form): a mistyped password first.
  const mistyped = await browser.signUp(urlB, { ...newcomer, password: 'violet kettle drums at noon', captcha: await browser.picture(b, urlB, captchaId), captchaId });
  assert.equal(mistyped.status, 409);
  const retried = await browser.signUp(urlB, { ...newcomer, captcha: await browser.picture(b, urlB, captchaId), captchaId });
  assert.equal(retried.status, 201, `the retry completes the sign-up, got ${retried.status} ${JSON.stringify(retried.body)}`);
  assert.deepEqual(retried.body, { ok: true, redirect: '/' });
  assert.equal(await browser.signedInAs(urlA), 'newcomer', 'signed in, at A too');
  assert.equal(await accountsNamed(databaseUrl, 'newcomer'), 1, 'one account');

  // Someone else asking for the name, with the same password even, is told it is taken,
  // in the very words the mistyped retry got.
  const other = new Browser();
  const otherId = (await other.open(`${urlB}/register`)) as string;
  const taken = await other.signUp(urlB, { ...newcomer, captcha: await other.picture(b, urlB, otherId), captchaId: otherId });
  assert.equal(taken.status, 409);
  assert.deepEqual(taken.body, mistyped.body);
  assert.equal(taken.body.error?.code, 'username_taken');
  assert.equal(await other.signedInAs(urlB), undefined);
});

test('two instances: failures through A turn attack mode on at B (health, log); a proof of work spent at B is refused at A; it relaxes by the clock', async (t) => {
  const { a, b, urlA, urlB } = await twoInstances(t, { attackModeOptions: { minFailures: 3 } });
  const attackModeAt = async (base: string) => ((await (await fetch(`${base}/healthz`)).json()) as { attackMode: unknown }).attackMode;
  assert.deepEqual(await attackModeAt(urlB), { on: false, level: 0 });
  for (let i = 0; i < 3; i += 1) {
    const bot = new Browser();
    const captchaId = (await bot.open(`${urlA}/login`)) as string;
    const captcha = await bot.picture(a, urlA, captchaId);
    assert.equal((await bot.signIn(urlA, { username: 'alice', password: `wrong password ${i}`, captcha, captchaId })).status, 401);
  }
  assert.deepEqual(await attackModeAt(urlB), { on: false, level: 0 }, 'B read the counters a moment ago');
  b.clock.advance(REFRESH_MS);
  assert.deepEqual(await attackModeAt(urlB), { on: true, level: 1 }, 'the next read at B sees the failures made at A');
  assert.match(b.logs(), /"level":1,"attempts":3,"failures":3,"msg":"attack mode on"/);

  a.clock.advance(REFRESH_MS);
  const challenge = ((await (await fetch(`${urlA}/pow-challenge`)).json()) as { challenge: Challenge }).challenge;
  const pow = await payPow(challenge);
  const person = new Browser();
  const id = (await person.open(`${urlB}/login`)) as string;
  const answer = await person.picture(b, urlB, id);
  assert.equal((await person.signIn(urlB, { ...alice, captcha: answer, captchaId: id })).status, 428, 'no proof of work');
  assert.deepEqual((await person.signIn(urlB, { ...alice, captcha: answer, captchaId: id, pow })).body, { ok: true, redirect: '/' });
  const replay = new Browser();
  const replayId = (await replay.open(`${urlA}/login`)) as string;
  const replayAnswer = await replay.picture(a, urlA, replayId);
  const replayed = await replay.signIn(urlA, { ...alice, captcha: replayAnswer, captchaId: replayId, pow });
  assert.deepEqual([replayed.status, replayed.body.error?.code], [400, 'pow_invalid'], 'spent at B');

  b.clock.advance(200_000);
  assert.deepEqual(await attackModeAt(urlB), { on: false, level: 0 }, 'relaxed once the campaign stopped');
  assert.match(b.logs(), /"msg":"attack mode off"/);
});
