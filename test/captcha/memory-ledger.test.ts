import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryLedger } from '../../src/captcha/memory-ledger.js';

test('the memory ledger claims an id once, among concurrent claims, until it expires', async () => {
  let now = 1_000;
  const ledger = memoryLedger(() => now);
  const claims = await Promise.all(Array.from({ length: 10 }, () => ledger.claim('id', 2_000)));
  assert.equal(claims.filter(Boolean).length, 1);
  assert.equal(await ledger.claim('other', 2_000), true);
  now = 2_000;
  assert.equal(await ledger.claim('id', 3_000), true, 'an expired id is forgotten (its challenge has expired too)');
});

test('the memory ledger sweeps expired ids, so it holds about two TTLs of claims at most', async () => {
  let now = 0;
  const ledger = memoryLedger(() => now);
  for (let round = 0; round < 6; round += 1) {
    for (let i = 0; i < 1500; i += 1) assert.equal(await ledger.claim(`${round}-${i}`, now + 100), true);
    assert.ok(ledger.size <= 2 * 1500, `round ${round}: ${ledger.size} ids held`);
    now += 100;
  }
});
