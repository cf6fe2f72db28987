import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadImage } from 'canvas';
import { ROOT_DIR } from '../../../src/paths.js';

function run(script: string, args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT_DIR, 'scripts/captcha', script), ...args], { encoding: 'utf8' });
}

test('captcha:sheet writes a numbered 2x sheet and its key apart; captcha:score scores a reading', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'captcha-sheet-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sheet = path.join(dir, 'panel', 'sheet.png');
  const key = path.join(dir, 'keys', 'sheet.key');

  const made = run('sheet.ts', ['--count', '6', '--seed', '77', '--sheet', sheet, '--key', key]);
  assert.equal(made.status, 0, made.stderr);
  assert.match(made.stdout, /^seed 77: wrote 6 captchas/);
  const image = await loadImage(readFileSync(sheet));
  assert.equal(image.width, 60 + 270 * 2);
  assert.equal(image.height, (40 * 2 + 8) * 6);
  const keyText = readFileSync(key, 'utf8');
  const answers = keyText.trim().split('\n').map((line) => line.split(' ')[1] as string);
  assert.equal(answers.length, 6);
  for (const answer of answers) assert.match(answer, /^[A-Z0-9]{5,6}$/);
  assert.ok(!made.stdout.includes(answers[0] as string), 'the answers are not printed');

  // The same seed makes the same sheet; a missing seed draws a fresh one and says which.
  const again = run('sheet.ts', ['--count', '6', '--seed', '77', '--sheet', sheet, '--key', key]);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(readFileSync(key, 'utf8'), keyText);
  const fresh = run('sheet.ts', ['--count', '6', '--sheet', sheet, '--key', key]);
  assert.match(fresh.stdout, /^seed \d+: wrote 6/);
  assert.notEqual(readFileSync(key, 'utf8'), keyText);
  writeFileSync(key, keyText);

  const reading = path.join(dir, 'answers.txt');
  writeFileSync(reading, answers.map((a, i) => `${i + 1} ${i === 2 ? a.slice(0, -1) + (a.endsWith('A') ? 'C' : 'A') : a.toLowerCase()}`).join('\n'));
  const scored = run('score.ts', [key, reading]);
  assert.equal(scored.status, 0, scored.stderr);
  assert.match(scored.stdout, /^miss 3: read /);
  assert.match(scored.stdout, /whole answers 5\/6 = 83\.3 %/);
});

test('captcha:sheet refuses a key beside the sheet, and bad options, with the usage', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'captcha-sheet-'));
  try {
    const beside = run('sheet.ts', ['--count', '2', '--sheet', path.join(dir, 's.png'), '--key', path.join(dir, 's.key')]);
    assert.equal(beside.status, 2);
    assert.match(beside.stderr, /--key must be outside --sheet's folder\nusage: /);
    const below = run('sheet.ts', ['--count', '2', '--sheet', path.join(dir, 's.png'), '--key', path.join(dir, 'keys', 's.key')]);
    assert.equal(below.status, 2);
    assert.match(below.stderr, /--key must be outside --sheet's folder/);
    const badOptions = run('sheet.ts', ['--count', '2', '--sheet', path.join(dir, 'a', 's.png'), '--key', path.join(dir, 'b', 's.key'), '--options', '{"warpAmplitude":99}']);
    assert.equal(badOptions.status, 2);
    assert.match(badOptions.stderr, /--options: render option warpAmplitude must be/);
    const typo = run('sheet.ts', ['--count', '2', '--sheet', path.join(dir, 'a', 's.png'), '--key', path.join(dir, 'b', 's.key'), '--options', '{"decoy":3}']);
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /--options: no render option named decoy/);
    const noKey = run('score.ts', [path.join(dir, 'missing.key'), path.join(dir, 'missing.txt')]);
    assert.equal(noKey.status, 2);
    assert.match(noKey.stderr, /cannot read key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('captcha:samples writes <answer>_<k>.png files, reproducibly with a seed, and takes --options', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'captcha-samples-'));
  try {
    const list = (sub: string): string[] => readdirSync(path.join(dir, sub)).sort();
    assert.equal(run('write-samples.ts', ['--count', '12', '--seed', '5', '--out', path.join(dir, 'a')]).status, 0);
    assert.equal(run('write-samples.ts', ['--count', '12', '--seed', '5', '--out', path.join(dir, 'b')]).status, 0);
    const made = run('write-samples.ts', ['--count', '12', '--seed', '5', '--out', path.join(dir, 'c'), '--options', '{"decoys":3}']);
    assert.equal(made.status, 0, made.stderr);
    assert.equal(list('a').length, 12);
    for (const name of list('a')) assert.match(name, /^[A-Z0-9]{5,6}_\d\d\.png$/);
    assert.deepEqual(list('a'), list('b'));
    for (const name of list('a')) assert.ok(readFileSync(path.join(dir, 'a', name)).equals(readFileSync(path.join(dir, 'b', name))), name);
    // Same answers (their stream is apart from drawing), other pictures.
    assert.deepEqual(list('c'), list('a'));
    assert.ok(!readFileSync(path.join(dir, 'c', list('c')[0] as string)).equals(readFileSync(path.join(dir, 'a', list('a')[0] as string))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the docs contact sheet comes from the same drawer: 4 across, 5 down, actual size, answer under each', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'contact-sheet-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'sheet.png');
  const made = run('contact-sheet.ts', [out, '--seed', '2026']);
  assert.equal(made.status, 0, made.stderr);
  const image = await loadImage(readFileSync(out));
  assert.equal(image.width, 8 + 4 * (270 + 8));
  assert.equal(image.height, 5 * (40 + 16 + 8));
  assert.equal(run('contact-sheet.ts', []).status, 2);
});
