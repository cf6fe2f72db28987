/**
 * The home page's account security summary: whether two-step verification is on (each
 * state links to the page that changes it), how many sessions are signed in, and the
 * password page, in both languages.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/build.js';
import { assertSignedInResponse, openPage, signIn } from '../helpers/flows.js';

const alice = { username: 'alice', password: 'correct horse battery staple' };

/** The text of the summary's row with this id, spaces folded. */
function rowText(html: string, id: string): string {
  const row = new RegExp(`<li[^>]*id="${id}"[^>]*>([\\s\\S]*?)</li>`).exec(html)?.[1] ?? '';
  return row.replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/\s+/g, ' ').trim();
}

test('home says whether two-step verification is on and how many sessions are signed in, linking to their pages, in English and Chinese', async (t) => {
  const app = await build(t);
  await app.createUser(alice.username, alice.password);
  const laptop = app.agent();
  assertSignedInResponse(await signIn(app, laptop, alice));

  const before = (await openPage(laptop, '/')).text;
  assert.equal(rowText(before, 'security-two-factor'), 'Two-step verification is off: your password alone signs in as you. Turn on two-step verification');
  assert.match(before, /<a id="security-two-factor-link" class="btn btn-sm btn-primary" href="\/account\/two-factor">/);
  assert.equal(rowText(before, 'security-sessions'), "Signed-in sessions: 1 See where you're signed in");
  assert.match(before, /href="\/account\/password">Change password</);

  assertSignedInResponse(await signIn(app, app.agent(), alice));
  const user = await app.stores.users.findByUsername(alice.username);
  assert.ok(user);
  assert.equal(await app.stores.totp.enable(user.id, 'JBSWY3DPEHPK3PXP', [], app.clock.now()), true);

  const after = (await openPage(laptop, '/')).text;
  assert.equal(rowText(after, 'security-two-factor'), 'Two-step verification is on. Manage two-step verification');
  assert.equal(rowText(after, 'security-sessions'), "Signed-in sessions: 2 See where you're signed in");

  const zh = (await laptop.get('/?lang=zh-CN').expect(200)).text;
  assert.equal(rowText(zh, 'security-two-factor'), '两步验证已开启。 管理两步验证');
  assert.equal(rowText(zh, 'security-sessions'), '已登录的会话：2 查看登录设备');
});
