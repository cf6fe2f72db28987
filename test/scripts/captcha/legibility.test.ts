import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatKey, formatScore, parseTranscript, scorePanel } from '../../../scripts/captcha/legibility.js';

describe('parseTranscript', () => {
  it('reads "<row> <TEXT>" lines in upper case, skipping blank lines', () => {
    const rows = parseTranscript('1 ack34\n\n2. HMN\r\n 3) wxy \n', 'answers');
    assert.deepEqual([...rows], [
      [1, 'ACK34'],
      [2, 'HMN'],
      [3, 'WXY'],
    ]);
  });

  it('names the file and line of anything else', () => {
    assert.throws(() => parseTranscript('1 ABC\nABC DEF\n', 'answers'), /answers line 2: expected/);
    assert.throws(() => parseTranscript('1 ABC\n1 ABD\n', 'key'), /key line 2: row 1 appears twice/);
  });

  it('reads back the key it writes', () => {
    assert.deepEqual([...parseTranscript(formatKey(['ACE34', 'HKMWXY']), 'key')], [
      [1, 'ACE34'],
      [2, 'HKMWXY'],
    ]);
  });
});

describe('scorePanel', () => {
  const key = parseTranscript(formatKey(['ACE34', 'HKMWXY', 'PRTLN', 'FJ3AC']), 'key');

  it('counts whole answers and characters, case ignored', () => {
    const score = scorePanel(key, parseTranscript('1 ace34\n2 HKMWXY\n3 PRTLN\n4 FJ3AC\n', 'answers'));
    assert.equal(score.wholeRight, 4);
    assert.equal(score.charactersRight, 21);
    assert.equal(score.characters, 21);
    assert.deepEqual(score.misses, []);
  });

  it('lists misses and the confusion pairs of same-length misreadings, most frequent first', () => {
    const score = scorePanel(key, parseTranscript('1 ACF34\n2 HKNWXY\n3 PRTL\n', 'answers'));
    assert.equal(score.wholeRight, 0);
    // Row 3 has the wrong length and row 4 is missing: all their characters count as missed.
    assert.equal(score.charactersRight, 4 + 5);
    assert.deepEqual(
      score.misses.map((m) => `${m.row}:${m.read}`),
      ['1:ACF34', '2:HKNWXY', '3:PRTL', '4:?'],
    );
    assert.deepEqual(score.confusions, [
      { pair: 'E→F', count: 1 },
      { pair: 'M→N', count: 1 },
    ]);
    assert.match(formatScore(score), /whole answers 0\/4 = 0\.0 %; characters 9\/21 = 42\.9 %\nconfusions \(truth→read\): E→F ×1, M→N ×1$/);
  });
});
