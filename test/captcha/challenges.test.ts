import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  issueChallenge,
  takeChallenge,
  verifyChallenge,
  type StoredChallenge,
} from '../../src/captcha/challenges.js';
import type { SpentChallengeLedger } from '../../src/storage/ports.js';

const TTL = 120_000;
const NOW = 1_000_000;

/** A ledger that remembers ids in memory, for the pure rules. */
function memoryLedger(): SpentChallengeLedger {
  const spent = new Set<string>();
  return {
    claim: async (id) => {
      if (spent.has(id)) return false;
      spent.add(id);
      return true;
    },
  };
}

function challenge(answer = 'HKM4X', issuedAt = NOW): StoredChallenge {
  return { id: `id-${answer}-${issuedAt}`, answer, issuedAt };
}

test('a right answer passes whatever its case and surrounding spaces', async () => {
  for (const typed of ['HKM4X', 'hkm4x', ' hKm4X\t']) {
    assert.deepEqual(await verifyChallenge({ challenge: challenge(), typed, now: NOW, ttlMs: TTL, ledger: memoryLedger() }), { ok: true });
  }
});

test('wrong, empty and non-string answers fail', async () => {
  for (const typed of ['HKM4Y', 'HKM4', 'HKM4XX', '', '   ', undefined, null, 42, ['HKM4X'], { a: 1 }]) {
    const result = await verifyChallenge({ challenge: challenge(), typed, now: NOW, ttlMs: TTL, ledger: memoryLedger() });
    assert.deepEqual(result, { ok: false, reason: 'wrong' }, `typed ${JSON.stringify(typed)}`);
  }
});

test('no challenge fails as missing', async () => {
  const result = await verifyChallenge({ challenge: undefined, typed: 'HKM4X', now: NOW, ttlMs: TTL, ledger: memoryLedger() });
  assert.deepEqual(result, { ok: false, reason: 'missing' });
});

test('an answer past the TTL fails as expired, one just inside passes', async () => {
  const ledger = memoryLedger();
  const late = await verifyChallenge({ challenge: challenge('AAAAA'), typed: 'AAAAA', now: NOW + TTL + 1, ttlMs: TTL, ledger });
  assert.deepEqual(late, { ok: false, reason: 'expired' });
  const inTime = await verifyChallenge({ challenge: challenge('CCCCC'), typed: 'CCCCC', now: NOW + TTL, ttlMs: TTL, ledger });
  assert.deepEqual(inTime, { ok: true });
});

test('a challenge id claimed once fails the second time even with the right answer', async () => {
  const ledger = memoryLedger();
  const used = challenge();
  assert.deepEqual(await verifyChallenge({ challenge: used, typed: 'HKM4X', now: NOW, ttlMs: TTL, ledger }), { ok: true });
  assert.deepEqual(await verifyChallenge({ challenge: used, typed: 'HKM4X', now: NOW, ttlMs: TTL, ledger }), { ok: false, reason: 'missing' });
});

test('taking a challenge removes it from the slots', () => {
  const slots = issueChallenge(undefined, 'tab', 'HKM4X', NOW, 5);
  assert.equal(takeChallenge(slots, 'tab')?.answer, 'HKM4X');
  assert.equal(takeChallenge(slots, 'tab'), undefined);
  assert.equal(takeChallenge(undefined, 'tab'), undefined);
  assert.equal(takeChallenge(slots, '__proto__'), undefined);
});

test('issuing keeps at most the newest N slots and replaces a slot in place', () => {
  let slots = issueChallenge(undefined, 's0', 'AAAAA', 0, 3);
  for (let i = 1; i <= 4; i += 1) slots = issueChallenge(slots, `s${i}`, 'AAAAA', i, 3);
  assert.deepEqual(Object.keys(slots).sort(), ['s2', 's3', 's4']);
  const before = slots.s3?.id;
  slots = issueChallenge(slots, 's3', 'CCCCC', 10, 3);
  assert.deepEqual(Object.keys(slots).sort(), ['s2', 's3', 's4']);
  assert.equal(slots.s3?.answer, 'CCCCC');
  assert.notEqual(slots.s3?.id, before, 'a new image gets a new challenge id');
});
