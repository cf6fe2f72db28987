/**
 * What a browser does, as named steps over a supertest agent (which keeps cookies), and
 * named assertions about the answers.
 */
import assert from 'node:assert/strict';
import type { Response, Test } from 'supertest';
import type supertest from 'supertest';
import type { TestApp } from './build.js';

export type Agent = ReturnType<typeof supertest.agent>;

export interface Credentials {
  username: string;
  password: string;
}

/** The CSRF token of the last page each agent opened, as the page script would send it. */
const csrfTokens = new WeakMap<Agent, string>();

export function csrfTokenOf(agent: Agent): string {
  const token = csrfTokens.get(agent);
  assert.ok(token, 'the agent has opened no page with a CSRF token');
  return token;
}

/** Opens a page and remembers its CSRF token for the agent; returns the page. */
export async function openPage(agent: Agent, page: string): Promise<Response> {
  const res = await agent.get(page).expect(200);
  const token = /<meta name="csrf-token" content="([^"]+)">/.exec(res.text)?.[1];
  assert.ok(token, `${page} has no CSRF token`);
  csrfTokens.set(agent, token);
  return res;
}

/** Opens a form page and returns the captcha id the page was rendered with. */
export async function openForm(agent: Agent, page: '/login' | '/register' = '/login'): Promise<string> {
  const res = await openPage(agent, page);
  const match = /data-captcha-id="([^"]+)"/.exec(res.text);
  assert.ok(match?.[1], `${page} has no data-captcha-id`);
  return match[1];
}

/** Loads the captcha image for a page and returns the answer the app made for it. */
export async function loadCaptcha(testApp: TestApp, agent: Agent, captchaId: string): Promise<string> {
  const before = testApp.answers.length;
  await agent.get(`/get_validCode_img?id=${captchaId}&n=${before}`).expect(200);
  assert.equal(testApp.answers.length, before + 1, 'the image request made exactly one answer');
  return testApp.answers.at(-1) as string;
}

export function postForm(
  agent: Agent,
  path: '/login' | '/register' | '/password-strength',
  body: Record<string, unknown>,
): Test {
  return agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', csrfTokens.get(agent) ?? '').send(body);
}

/** Opens the login page, reads its captcha and signs in; returns the response. */
export async function signIn(testApp: TestApp, agent: Agent, credentials: Credentials): Promise<Response> {
  const captchaId = await openForm(agent);
  const captcha = await loadCaptcha(testApp, agent, captchaId);
  return postForm(agent, '/login', { ...credentials, captcha, captchaId });
}

export function assertError(res: Response, status: number, code: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.text.slice(0, 200)}`);
  assert.match(String(res.headers['content-type']), /application\/json/);
  assert.equal(res.body.ok, false);
  assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(res.body.error.message.length > 0, 'the error has a message to show');
}

export function assertSignedInResponse(res: Response): void {
  assert.equal(res.status < 300, true, `expected success, got ${res.status} ${res.text.slice(0, 200)}`);
  assert.deepEqual(res.body, { ok: true, redirect: '/' });
}

export async function assertHomeGreets(agent: Agent, username: string): Promise<void> {
  const res = await agent.get('/').expect(200);
  assert.match(res.text, new RegExp(`Hello, ${username}!`));
}

export async function assertSignedOut(agent: Agent): Promise<void> {
  const res = await agent.get('/').expect(303);
  assert.equal(res.headers.location, '/login');
}

export function sessionCookie(res: Response): string | undefined {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return cookies.find((cookie) => cookie.startsWith('captcha_login.sid='))?.split(';')[0];
}
