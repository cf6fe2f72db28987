import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { assertError, assertHomeGreets, loadCaptcha, openForm, postForm } from '../helpers/flows.js';

test('hostile field values get 400 invalid_request before the captcha is spent', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(app, agent, captchaId);
  const valid = { username: 'alice', password: 'correct horse battery', captcha, captchaId };
  const hostile: Record<string, unknown>[] = [
    { username: 'ali\u0000ce' },
    { username: 'ali\nce' },
    { password: 'pass\u0000word' },
    { password: 'broken \ud800 surrogate' },
    { password: 'x'.repeat(1025) },
    { password: 'é'.repeat(513) },
    { username: 1e308 },
    { username: 2 ** 80 },
    { captcha: ['AAAAA'] },
    { captcha: { $ne: '' } },
    { captcha: 'A'.repeat(17) },
    { captchaId: '../../etc' },
    { username: null },
  ];
  for (const change of hostile) {
    assertError(await postForm(agent, '/login', { ...valid, ...change }), 400, 'invalid_request');
  }
  assertError(await postForm(agent, '/login', [valid] as unknown as Record<string, unknown>), 400, 'invalid_request');
  assertError(await agent.post('/login').set('Content-Type', 'application/json').set('X-CSRF-Token', 'x').send('"just a string"'), 400, 'invalid_json');
  assert.equal(app.answers.at(-1), captcha, 'no new captcha was needed');
});

test('sign-up accepts long Unicode passphrases and refuses easily guessed passwords', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  for (const password of ['password1', 'qwertyuiop', 'alice2026!']) {
    const captchaId = await openForm(agent, '/register');
    const captcha = await loadCaptcha(app, agent, captchaId);
    assertError(await postForm(agent, '/register', { username: 'alice', password, captcha, captchaId }), 400, 'weak_password');
  }
  const captchaId = await openForm(agent, '/register');
  const captcha = await loadCaptcha(app, agent, captchaId);
  const passphrase = '我的密码是一句很长的话 with emoji 🦊 and more words to pass sixty-four characters easily';
  assert.ok([...passphrase].length > 64);
  const res = await postForm(agent, '/register', { username: 'alice', password: passphrase, captcha, captchaId });
  assert.equal(res.status, 201, res.text);
  await assertHomeGreets(agent, 'alice');
});

test('the sign-up page shows a strength hint fed by the estimator', async (t) => {
  const app = await build(t);
  const agent = app.agent();
  const page = await agent.get('/register').expect(200);
  assert.match(page.text, /id="password-strength"[^>]*aria-live="polite"/);
  assert.match(page.text, /Common or easily guessed passwords are refused/);
  await openForm(agent, '/register');
  const weak = await postForm(agent, '/password-strength', { password: 'password1' }).expect(200);
  assert.equal(weak.body.acceptable, false);
  assert.ok(weak.body.score <= 1);
  assert.match(weak.body.warning, /common/i);
  const strong = await postForm(agent, '/password-strength', { password: 'violet kettle drums at midnight' }).expect(200);
  assert.equal(strong.body.acceptable, true);
  const usesName = await postForm(agent, '/password-strength', { password: 'rosalind1987', username: 'rosalind1987' }).expect(200);
  assert.equal(usesName.body.acceptable, false, 'the username counts as known to the attacker');
});
