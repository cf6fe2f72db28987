/**
 * Property-based fuzzing of every POST route and the captcha routes over real HTTP: 10,000
 * generated malformed requests (wrong types, broken JSON, odd content types, control
 * characters, lone surrogates, huge values; with no cookie, with a sign-in page's cookie
 * and token, or with a signed-in session and its token). None may get a 5xx, the process must keep serving, and no account may change.
 * Then raw request lines over a socket (fetch cannot send `*` or other odd targets): a
 * fixed list of known oddities and generated ones, none answered with a 5xx; and passkey
 * ceremonies without a usable Host (which names the site when PUBLIC_ORIGIN is unset).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { build, serve } from '../helpers/build.js';
import { assertSignedInResponse, sessionCookie, signIn } from '../helpers/flows.js';

const RUNS = 10_000;
const ALLOWED = new Set([200, 201, 303, 400, 401, 403, 404, 409, 410, 413, 415, 429]);
const POST_ROUTES = [
  '/login',
  '/register',
  '/logout',
  '/password-strength',
  '/passkeys/sign-in/options',
  '/passkeys/sign-in',
  '/passkeys/options',
  '/passkeys',
  '/passkeys/remove',
  '/login/code',
  '/account/two-factor/enrol',
  '/account/two-factor/confirm',
  '/account/two-factor/recovery-codes',
  '/account/two-factor/disable',
  '/account/sessions/revoke',
  '/account/sessions/revoke-others',
  '/account/password',
];

const oddString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 3000 }),
  fc.constantFrom('\u0000', '\ud800', 'a\udc00b', '\u202e', '\ufeff', '𝕒'.repeat(600), '%00', '__proto__', 'constructor'),
);
const oddValue = fc.oneof(
  oddString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -0, Number.MAX_SAFE_INTEGER + 2),
  fc.boolean(),
  fc.constant(null),
  fc.array(oddString, { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
);
const formLike = fc.record(
  { username: oddValue, password: oddValue, captcha: oddValue, captchaId: oddValue, _csrf: oddValue, __proto__: oddValue, name: oddValue, id: oddValue, response: oddValue, code: oddValue, secret: oddValue, current: oddValue, confirm: oddValue },
  { requiredKeys: [] },
);
const bodyText = fc.oneof(
  formLike.map((value) => JSON.stringify(value)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{', '{"username":', '[]', 'null', '"x"', '1e999999', '{"a":' + '['.repeat(500)),
  fc.string({ minLength: 17_000, maxLength: 17_100 }),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=koi8-r',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
);
const postRequest = fc.record({
  kind: fc.constant('post' as const),
  path: fc.constantFrom(...POST_ROUTES),
  body: bodyText,
  contentType,
  as: fc.constantFrom('nobody', 'page', 'signed-in'),
  crossSite: fc.boolean(),
});
const imageRequest = fc.record({
  kind: fc.constant('image' as const),
  path: fc.constantFrom('/get_validCode_img', '/get_validCode_audio'),
  query: fc.dictionary(fc.constantFrom('id', 'n', 'lang', 'x'), oddString, { maxKeys: 3 }),
  as: fc.constantFrom('nobody', 'page', 'signed-in'),
});

test(`${RUNS} malformed requests: no 5xx, the process serves on, no account changes`, async (t) => {
  const app = await build(t);
  await app.createUser('alice', 'correct horse battery');
  const accountsBefore = JSON.stringify(app.db.prepare('SELECT * FROM users ORDER BY id').all());
  const base = await serve(t, app);

  const credentials = { page: { cookie: '', token: '' }, 'signed-in': { cookie: '', token: '' } };
  const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const tokenOf = async (res: Response) => /<meta name="csrf-token" content="([^"]+)">/.exec(await res.text())?.[1] ?? '';
  /** A fresh page cookie and token, as a page load gives, and a fresh signed-in session (again after a fuzzed sign-out). */
  const openSessions = async () => {
    const page = await fetch(`${base}/login`);
    credentials.page = { cookie: cookieOf(page), token: await tokenOf(page) };
    const signedIn = await signIn(app, app.agent(), { username: 'alice', password: 'correct horse battery' });
    assertSignedInResponse(signedIn);
    const cookie = sessionCookie(signedIn) ?? '';
    const home = await fetch(`${base}/`, { headers: { Cookie: cookie } });
    assert.equal(home.status, 200);
    credentials['signed-in'] = { cookie, token: await tokenOf(home) };
    for (const { cookie, token } of Object.values(credentials)) assert.ok(cookie && token);
  };
  await openSessions();

  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fc.oneof(postRequest, postRequest, postRequest, imageRequest), async (request) => {
      const own = request.as === 'nobody' ? undefined : credentials[request.as];
      const headers: Record<string, string> = own ? { Cookie: own.cookie, 'X-CSRF-Token': own.token } : {};
      let res: Response;
      if (request.kind === 'post') {
        if (request.contentType) headers['Content-Type'] = request.contentType;
        if (request.crossSite) headers['Sec-Fetch-Site'] = 'cross-site';
        res = await fetch(`${base}${request.path}`, { method: 'POST', headers, body: request.body, redirect: 'manual' });
      } else {
        res = await fetch(`${base}${request.path}?${new URLSearchParams(request.query).toString()}`, { headers });
      }
      await res.arrayBuffer();
      if (res.status === 303) await openSessions();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      return ALLOWED.has(res.status);
    }),
    { numRuns: RUNS, seed: 20261124 },
  );
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.ok([...statuses.keys()].every((status) => status < 500));
  assert.ok((statuses.get(400) ?? 0) > 100, 'many requests reached validation');

  assert.equal(JSON.stringify(app.db.prepare('SELECT * FROM users ORDER BY id').all()), accountsBefore, 'accounts unchanged');
  assert.deepEqual(app.db.prepare('SELECT id FROM passkeys').all(), [], 'no passkey added');
  assertSignedInResponse(await signIn(app, app.agent(), { username: 'alice', password: 'correct horse battery' }));
  assert.doesNotMatch(app.logs(), /"level":50/, 'no request failed with an error');
});

/** Sends raw request text and returns the status code of the answer (0 if the connection closed without one). */
function rawExchange(base: string, request: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.end(request);
  });
}

/** Sends one raw request line (with a Host) and returns the status code of the answer. */
function rawRequest(base: string, method: string, target: string): Promise<number> {
  const { host } = new URL(base);
  return rawExchange(base, `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`);
}

/** An answer below 500; CONNECT may also be closed unanswered (Node's server does that without a tunnel handler). */
const answered = (method: string, status: number) => (status > 0 || method === 'CONNECT') && status < 500;

const METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'CONNECT', 'PROPFIND'];
const ODD_TARGETS = ['*', '/', '//', '///login', 'login', '?x', 'http://127.0.0.1/login', 'https://example.com/', 'example.com:443', '/%', '/%ff', '/%00', '/..%2f..%2fetc/passwd', '/login?lang=zh-CN&lang=en', '/get_validCode_img?id=a&id=b', '/static/..%2f..%2fpackage.json', '/logout', `/${'a'.repeat(8000)}`];

test('no request line gets a 5xx: `OPTIONS *`, absolute and odd targets, generated ones', async (t) => {
  const app = await build(t);
  const base = await serve(t, app);
  assert.equal(await rawRequest(base, 'OPTIONS', '*'), 400, 'OPTIONS * is refused as a bad request');
  for (const method of METHODS) {
    for (const target of ODD_TARGETS) {
      assert.ok(answered(method, await rawRequest(base, method, target)), `${method} ${target.slice(0, 60)}`);
    }
  }
  const targetText = fc.stringMatching(/^[\x21-\x7e]{1,80}$/);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...METHODS), fc.oneof(targetText, targetText.map((text) => `/${text}`)), async (method, target) => {
      return answered(method, await rawRequest(base, method, target));
    }),
    { numRuns: 500, seed: 20261203 },
  );
  assert.doesNotMatch(app.logs(), /"level":50/, 'no request failed with an error');
});

test('without PUBLIC_ORIGIN, a passkey post with no Host (HTTP/1.0) or a malformed one is a 400, not a 500', async (t) => {
  const app = await build(t);
  const base = await serve(t, app);
  // A sign-in page's cookie and token: the posts pass every check before the site is read.
  const page = await fetch(`${base}/login`);
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const token = /<meta name="csrf-token" content="([^"]+)">/.exec(await page.text())?.[1] ?? '';
  const post = (path: string, version: string, host: string | undefined, body = '{}') =>
    rawExchange(
      base,
      `POST ${path} HTTP/${version}\r\n${host === undefined ? '' : `Host: ${host}\r\n`}Accept: application/json\r\nContent-Type: application/json\r\n` +
        `Cookie: ${cookie}\r\nX-CSRF-Token: ${token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  const { host } = new URL(base);
  assert.equal(await post('/passkeys/sign-in/options', '1.1', host), 200, 'the cookie and token pass');
  const response = {
    id: 'AAAA',
    rawId: 'AAAA',
    type: 'public-key',
    clientExtensionResults: {},
    response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' },
  };
  for (const [version, badHost] of [['1.0', undefined], ['1.1', '[::1'], ['1.1', 'a b'], ['1.1', 'example.com/path'], ['1.1', 'user@example.com']] as const) {
    assert.equal(await post('/passkeys/sign-in/options', version, badHost), 400, `options, Host ${String(badHost)}`);
    assert.equal(await post('/passkeys/sign-in', version, badHost, JSON.stringify({ response })), 400, `sign-in, Host ${String(badHost)}`);
  }
  assert.doesNotMatch(app.logs(), /"level":50/, 'no request failed with an error');
});
