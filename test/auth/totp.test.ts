/**
 * The TOTP model (src/auth/totp.ts) on real SQLite stores, with codes computed by otpauth
 * from the secret as an authenticator app would: reading a code field, enrolment (stale
 * secret, concurrent enrolments, nothing partial), a code accepted once with ±1 step of
 * drift, recovery codes good once, and the recent sign-in that changes need. The same
 * over HTTP, on two instances and in Chromium: test/account/two-factor-routes.test.ts,
 * test/auth/two-factor-sign-in.test.ts, test/http/two-instances.test.ts and
 * test/browser/two-factor.test.ts.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Secret, TOTP, URI } from 'otpauth';
import { RefusedError } from '../../src/errors.js';
import { RECOVERY_CODE_COUNT, createTwoFactor, parseCode, recoveryCodeHash, type TwoFactor } from '../../src/auth/totp.js';
import { openStores } from '../../src/storage/index.js';
import { tempDir } from '../storage/contract.js';
import { RECENT_SIGN_IN_MS } from '../../src/session/timeouts.js';

const START = Date.UTC(2026, 11, 7, 8, 0, 0);

async function setup(t: TestContext, dataDir = tempDir(t, 'totp-')) {
  let now = START;
  const stores = await openStores({ dataDir, pruneIntervalMs: 0 });
  t.after(() => stores.close());
  const clock = () => now;
  const twoFactor = createTwoFactor({ repository: stores.totp, ledger: stores.spentChallenges, issuer: 'Captcha Login', clock });
  const made = await stores.users.create('alice', 'hash');
  const user = { id: made.id, username: 'alice', signedInAt: START };
  return { stores, twoFactor, user, dataDir, clock, set: (ms: number) => (now = ms), advance: (ms: number) => (now += ms) };
}

/** The code an authenticator app shows at `ms` for a base32 secret. */
const codeAt = (secret: string, ms: number) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

const refusedWith = (code: string) => (err: unknown) => err instanceof RefusedError && err.code === code;

async function enrolled(twoFactor: TwoFactor, user: { id: number; username: string; signedInAt: number }, now: number) {
  const { secret } = await twoFactor.newEnrolment(user);
  const recoveryCodes = await twoFactor.confirm(user, secret, secret, codeAt(secret, now));
  return { secret, recoveryCodes };
}

test('a code field holds a 6-digit TOTP code or a 12-character recovery code; anything else is malformed', () => {
  assert.deepEqual(parseCode('123456'), { kind: 'totp', token: '123456' });
  assert.deepEqual(parseCode(' 123 456 '), { kind: 'totp', token: '123456' }, 'apps show it in two groups');
  assert.deepEqual(parseCode('ABCD-EFGH-JKMN'), { kind: 'recovery', code: 'abcdefghjkmn' });
  assert.deepEqual(parseCode('o1il 2345 6789'), { kind: 'recovery', code: '011123456789' }, 'o, i and l read as 0 and 1');
  for (const bad of ['', '12345', '1234567', '12345a', 'abcd-efgh-jkm', 'abcd-efgh-jkmnp', 'abcd-efgh-jkm!', 'uuuu-uuuu-uuuu', '１２３４５６']) {
    assert.equal(parseCode(bad), undefined, JSON.stringify(bad));
  }
});

test('enrolment: a fresh secret with its otpauth URI and QR code; a first code enables it with 10 recovery codes', async (t) => {
  const { twoFactor, user, stores } = await setup(t);
  const enrolment = await twoFactor.newEnrolment(user);
  assert.match(enrolment.secret, /^[A-Z2-7]{32}$/, '160 bits of base32');
  const parsed = URI.parse(enrolment.uri);
  assert.ok(parsed instanceof TOTP);
  assert.equal(parsed.secret.base32, enrolment.secret);
  assert.deepEqual([parsed.issuer, parsed.label, parsed.algorithm, parsed.digits, parsed.period], ['Captcha Login', 'alice', 'SHA1', 6, 30]);
  assert.match(enrolment.qrCode, /^data:image\/svg\+xml;base64,/);
  assert.match(Buffer.from(enrolment.qrCode.split(',')[1] ?? '', 'base64').toString(), /^<svg /);
  assert.notEqual((await twoFactor.newEnrolment(user)).secret, enrolment.secret, 'each enrolment has its own secret');
  assert.equal(await twoFactor.status(user.id), undefined, 'nothing is stored before the confirmation');

  const codes = await twoFactor.confirm(user, enrolment.secret, enrolment.secret, codeAt(enrolment.secret, START));
  assert.equal(codes.length, RECOVERY_CODE_COUNT);
  assert.equal(new Set(codes).size, RECOVERY_CODE_COUNT);
  for (const code of codes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
  assert.deepEqual(await twoFactor.status(user.id), { userId: user.id, secret: enrolment.secret, enabledAt: START, recoveryCodesLeft: 10 });
  const stored = stores.db!.prepare('SELECT code_hash FROM totp_recovery_codes').all() as Array<{ code_hash: string }>;
  assert.deepEqual(
    stored.map((row) => row.code_hash).sort(),
    codes.map((code) => recoveryCodeHash(user.id, code.replace(/-/g, ''))).sort(),
    'only their hashes are stored',
  );
});

test('enrolment is refused, with nothing stored, for a stale or missing secret, a malformed or wrong code', async (t) => {
  const { twoFactor, user } = await setup(t);
  const first = await twoFactor.newEnrolment(user);
  const second = await twoFactor.newEnrolment(user);
  // The page shows the first secret; another tab has since started the second one (now in the session).
  await assert.rejects(twoFactor.confirm(user, second.secret, first.secret, codeAt(first.secret, START)), refusedWith('totp_enrolment_stale'));
  await assert.rejects(twoFactor.confirm(user, undefined, first.secret, codeAt(first.secret, START)), refusedWith('totp_enrolment_stale'), 'the session lost it');
  await assert.rejects(twoFactor.confirm(user, second.secret, second.secret, 'abcd-efgh-jkmn'), refusedWith('totp_code_malformed'), 'a recovery code cannot confirm');
  await assert.rejects(twoFactor.confirm(user, second.secret, second.secret, '12345'), refusedWith('totp_code_malformed'));
  await assert.rejects(twoFactor.confirm(user, second.secret, second.secret, codeAt(first.secret, START)), refusedWith('totp_code_wrong'));
  assert.equal(await twoFactor.status(user.id), undefined);
  await twoFactor.confirm(user, second.secret, second.secret, codeAt(second.secret, START));
  assert.equal((await twoFactor.status(user.id))?.secret, second.secret);
});

test('of two enrolments confirmed at once (two sessions, two handles), one ends enabled; the other is refused', async (t) => {
  const a = await setup(t);
  const other = await openStores({ dataDir: a.dataDir, pruneIntervalMs: 0 });
  t.after(() => other.close());
  const b = createTwoFactor({ repository: other.totp, ledger: other.spentChallenges, issuer: 'x', clock: a.clock });
  const [one, two] = [await a.twoFactor.newEnrolment(a.user), await b.newEnrolment(a.user)];
  const results = await Promise.allSettled([
    a.twoFactor.confirm(a.user, one.secret, one.secret, codeAt(one.secret, START)),
    b.confirm(a.user, two.secret, two.secret, codeAt(two.secret, START)),
  ]);
  const won = results.findIndex((result) => result.status === 'fulfilled');
  assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
  const lost = results[1 - won];
  assert.ok(lost?.status === 'rejected' && refusedWith('totp_already_enabled')(lost.reason));
  assert.equal((await a.twoFactor.status(a.user.id))?.secret, [one, two][won]?.secret, "the winner's secret, with its codes");
});

test('a sign-in code is accepted once, with one step of drift either way; a replay is refused as used', async (t) => {
  const { twoFactor, user, set, stores } = await setup(t);
  const { secret } = await enrolled(twoFactor, user, START);
  assert.equal(await twoFactor.verify(user.id, { kind: 'totp', token: codeAt(secret, START) }), 'used', 'the confirming code was spent');

  const later = START + 10 * 60_000;
  set(later);
  const code = (offsetSteps: number) => ({ kind: 'totp' as const, token: codeAt(secret, later + offsetSteps * 30_000) });
  assert.equal(await twoFactor.verify(user.id, code(-1)), 'totp', 'one step behind');
  assert.equal(await twoFactor.verify(user.id, code(1)), 'totp', 'one step ahead');
  assert.equal(await twoFactor.verify(user.id, code(0)), 'totp');
  assert.equal(await twoFactor.verify(user.id, code(0)), 'used', 'replayed');
  assert.equal(await twoFactor.verify(user.id, code(-2)), 'wrong', 'two steps behind');
  assert.equal(await twoFactor.verify(user.id, code(2)), 'wrong', 'two steps ahead');
  set(later + 30_000);
  assert.equal(await twoFactor.verify(user.id, code(0)), 'used', 'still refused in the next step, where it is one behind');

  const second = createTwoFactor({ repository: stores.totp, ledger: stores.spentChallenges, issuer: 'x', clock: () => later + 60_000 });
  const next = { kind: 'totp' as const, token: codeAt(secret, later + 60_000) };
  const both = await Promise.all([twoFactor.verify(user.id, next), second.verify(user.id, next)]);
  assert.deepEqual(both.sort(), ['totp', 'used'], 'of two concurrent uses, one passes');
});

test('a code that matches two neighbouring steps is spent for both, so it passes once', async (t) => {
  const { twoFactor, user, set, stores } = await setup(t);
  // Found by search: this secret's codes for steps 59141676 and 59141677 are both 212317.
  const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  const step = 59_141_676;
  assert.equal(codeAt(secret, step * 30_000), '212317');
  assert.equal(codeAt(secret, (step + 1) * 30_000), '212317');
  await stores.totp.enable(user.id, secret, [], START);
  set(step * 30_000);
  assert.equal(await twoFactor.verify(user.id, { kind: 'totp', token: '212317' }), 'totp');
  set((step + 1) * 30_000);
  assert.equal(await twoFactor.verify(user.id, { kind: 'totp', token: '212317' }), 'used', 'not accepted again as the next step');
});

test('a recovery code signs in once, in any spelling, even when used twice at once; a wrong one is wrong', async (t) => {
  const { twoFactor, user } = await setup(t);
  const { recoveryCodes } = await enrolled(twoFactor, user, START);
  const [first = '', second = ''] = recoveryCodes;
  assert.equal(await twoFactor.verify(user.id, parseCode(first.toUpperCase().replace(/-/g, ' '))!), 'recovery');
  assert.equal(await twoFactor.verify(user.id, parseCode(first)!), 'wrong', 'used twice');
  const both = await Promise.all([twoFactor.verify(user.id, parseCode(second)!), twoFactor.verify(user.id, parseCode(second)!)]);
  assert.deepEqual(both.sort(), ['recovery', 'wrong']);
  assert.equal(await twoFactor.verify(user.id, parseCode('0000-0000-0000')!), 'wrong');
  assert.equal((await twoFactor.status(user.id))?.recoveryCodesLeft, 8);
  assert.equal(await twoFactor.verify(user.id + 1, parseCode(recoveryCodes[2] ?? '')!), 'wrong', "another account's code");
});

test('enrolling, new recovery codes and disabling need a sign-in within 10 minutes', async (t) => {
  const { twoFactor, user, advance } = await setup(t);
  const { secret, recoveryCodes } = await enrolled(twoFactor, user, START);
  advance(RECENT_SIGN_IN_MS + 1);
  await assert.rejects(twoFactor.regenerateRecoveryCodes(user), refusedWith('totp_reauth_required'));
  await assert.rejects(twoFactor.disable(user), refusedWith('totp_reauth_required'));
  await assert.rejects(twoFactor.newEnrolment(user), refusedWith('totp_reauth_required'));
  await assert.rejects(twoFactor.confirm(user, secret, secret, '123456'), refusedWith('totp_reauth_required'));
  assert.equal((await twoFactor.status(user.id))?.recoveryCodesLeft, 10, 'nothing changed');

  const fresh = { ...user, signedInAt: START + RECENT_SIGN_IN_MS + 1 };
  const renewed = await twoFactor.regenerateRecoveryCodes(fresh);
  assert.equal(renewed.length, 10);
  assert.equal(await twoFactor.verify(user.id, parseCode(recoveryCodes[0] ?? '')!), 'wrong', 'the old codes are gone');
  assert.equal(await twoFactor.verify(user.id, parseCode(renewed[0] ?? '')!), 'recovery');
  await twoFactor.disable(fresh);
  assert.equal(await twoFactor.status(user.id), undefined);
  await assert.rejects(twoFactor.disable(fresh), refusedWith('totp_not_enabled'));
  await assert.rejects(twoFactor.regenerateRecoveryCodes(fresh), refusedWith('totp_not_enabled'));
  assert.equal(await twoFactor.verify(user.id, parseCode(renewed[1] ?? '')!), 'wrong', 'disabled: no code signs in');
});
