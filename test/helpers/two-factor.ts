/**
 * Two-step verification as a person does it, over a supertest agent: enrol from the
 * two-factor page (reading the secret the page shows and computing codes from it with
 * otpauth, as an authenticator app would), and sign in with a password and then a code.
 */
import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import { Secret, TOTP } from 'otpauth';
import type { TestApp } from './build.js';
import { csrfTokenOf, openPage, signIn, type Agent, type Credentials } from './flows.js';

/** The code an authenticator app shows at `ms` for a base32 secret. */
export function codeAt(secret: string, ms: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });
}

export function postJson(agent: Agent, path: string, body: Record<string, unknown> = {}) {
  return agent.post(path).set('Accept', 'application/json').set('X-CSRF-Token', csrfTokenOf(agent)).send(body);
}

/** The secret an enrolment answer's HTML shows (data-secret). */
export function secretOf(res: Response): string {
  const secret = /data-secret="([A-Z2-7]+)"/.exec(String(res.body.html))?.[1];
  assert.ok(secret, `no secret in ${res.text.slice(0, 300)}`);
  return secret;
}

/** The recovery codes an answer's HTML shows. */
export function recoveryCodesOf(res: Response): string[] {
  return [...String(res.body.html).matchAll(/<code class="text-body">([0-9a-z-]+)<\/code>/g)].map((match) => match[1] ?? '');
}

/** Starts an enrolment on the two-factor page; resolves the secret it shows. */
export async function startEnrolment(agent: Agent): Promise<string> {
  await openPage(agent, '/account/two-factor');
  const res = await postJson(agent, '/account/two-factor/enrol');
  assert.equal(res.status, 200, res.text);
  return secretOf(res);
}

/** Enrols the signed-in agent's account; resolves its secret and recovery codes. */
export async function enrol(testApp: TestApp, agent: Agent): Promise<{ secret: string; recoveryCodes: string[] }> {
  const secret = await startEnrolment(agent);
  const res = await postJson(agent, '/account/two-factor/confirm', { secret, code: codeAt(secret, testApp.clock.now()) });
  assert.equal(res.status, 200, res.text);
  const recoveryCodes = recoveryCodesOf(res);
  assert.equal(recoveryCodes.length, 10);
  return { secret, recoveryCodes };
}

/** Signs in with the password, which must ask for a code; then sends `code`. */
export async function signInWithCode(testApp: TestApp, agent: Agent, credentials: Credentials, code: string): Promise<Response> {
  const first = await signIn(testApp, agent, credentials);
  assert.deepEqual(first.body, { ok: true, step: 'code' }, first.text);
  return postJson(agent, '/login/code', { code });
}
