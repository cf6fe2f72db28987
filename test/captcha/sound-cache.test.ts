import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSoundCache } from '../../src/captcha/sound-cache.js';

const wav = (bytes: number) => Buffer.alloc(bytes);

test('the sound cache keeps the most recently used sounds under its cap in bytes', () => {
  const cache = createSoundCache(300);
  cache.set('a', wav(100));
  cache.set('b', wav(100));
  cache.set('c', wav(100));
  assert.equal(cache.bytes, 300);
  assert.ok(cache.get('a'), 'a is now the most recently used');
  cache.set('d', wav(100));
  assert.equal(cache.get('b'), undefined, 'the least recently used went first');
  assert.deepEqual(['a', 'c', 'd'].map((key) => cache.get(key)?.length), [100, 100, 100]);
  cache.set('e', wav(250));
  assert.ok(cache.bytes <= 300);
  assert.deepEqual(['a', 'c', 'd', 'e'].map((key) => cache.get(key)?.length), [undefined, undefined, undefined, 250]);
  cache.set('huge', wav(301));
  assert.equal(cache.get('huge'), undefined, 'a sound above the cap is not kept');
  cache.delete('e');
  assert.equal(cache.bytes, 0);
  cache.set('x', wav(50));
  cache.set('x', wav(60));
  assert.equal(cache.bytes, 60, 'replacing a key counts its bytes once');
});

test('a cap of 0 keeps nothing', () => {
  const cache = createSoundCache(0);
  cache.set('a', wav(1));
  assert.equal(cache.get('a'), undefined);
  assert.equal(cache.bytes, 0);
});
