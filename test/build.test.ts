/**
 * Production runs compiled JavaScript: `npm run build` writes dist/, and `npm start`
 * serves from it with plain node (no tsx), finding views, static files, fonts and the
 * strength worker from there. Builds, starts the compiled server on a free port, uses
 * it, and stops it with SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { ROOT_DIR } from '../src/paths.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

test('npm start runs the compiled server with plain node; tsx is a development tool only', () => {
  assert.match(pkg.scripts.start ?? '', /^node (--\S+ )*dist\/server\.js$/);
  assert.equal(pkg.dependencies.tsx, undefined, 'tsx is not a runtime dependency');
});

test('the compiled server serves pages, static files, pictures and hints, and stops on SIGTERM', async (t) => {
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT_DIR, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stdout + build.stderr);

  const dataDir = mkdtempSync(path.join(tmpdir(), 'compiled-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = spawn(process.execPath, [path.join(ROOT_DIR, pkg.scripts.start?.split(' ').at(-1) ?? '')], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH, PORT: '0', DATA_DIR: dataDir, RATE_LIMITS: 'off' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
  t.after(() => server.kill('SIGKILL'));
  let base = '';
  for await (const line of createInterface({ input: server.stdout })) {
    const url = (JSON.parse(line) as { url?: string }).url;
    if (url) {
      base = new URL(url).origin;
      break;
    }
  }
  assert.ok(base, 'the server said where it listens');

  const page = await fetch(`${base}/register`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<meta name="csrf-token"/);
  const cookie = page.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
  const token = /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1] ?? '';
  for (const asset of ['/static/css/app.css', '/static/js/auth-form.js', '/static/jquery/jquery.min.js', '/static/bootstrap/css/bootstrap.min.css']) {
    assert.equal((await fetch(`${base}${asset}`)).status, 200, asset);
  }
  const picture = await fetch(`${base}/get_validCode_img?id=abc`, { headers: { Cookie: cookie } });
  assert.equal(picture.headers.get('content-type'), 'image/png', 'fonts and canvas work from dist/');
  const hint = await fetch(`${base}/password-strength`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': token },
    body: JSON.stringify({ password: 'password1' }),
  });
  assert.equal(hint.status, 200, 'the strength worker starts from dist/');
  assert.equal(((await hint.json()) as { acceptable: boolean }).acceptable, false);

  server.kill('SIGTERM');
  assert.equal(await exited, 0, 'a clean shutdown');
});
