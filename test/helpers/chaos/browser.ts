/**
 * A chaos-run client: a cookie jar over fetch with the page's form token and a fixed
 * client address (X-Forwarded-For, which the instances trust one hop of), so each
 * simulated person has a network of their own, as the lockout sees it. Every exchange is
 * written to the run's log; none waits longer than ANSWER_TIMEOUT_MS.
 *
 * The retry rule is the one the 503 message states ("nothing you sent was lost; try
 * again"): call() sends the same request again after Retry-After (capped, so the run
 * does not sleep for seconds), to any instance, until the answer is not 503.
 */
import { randomUUID } from 'node:crypto';
import type { Random } from './random.js';

/** Longer than any bounded store wait (2 s) by far: an answer slower than this is lost. */
const ANSWER_TIMEOUT_MS = 10_000;
/** A reset this soon after sending is a kept-alive connection closed before the request arrived. */
const STALE_RESET_MS = 50;

function isStaleConnection(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET';
}

export interface Exchange {
  kind: string;
  instance: number;
  status: number;
  code?: string;
  ms: number;
  /** Whether a fault was in force when the request was sent. */
  duringFault: boolean;
  /** Why no answer came (status 0). */
  error?: string;
}

export interface Answer {
  status: number;
  code?: string;
  body?: Record<string, unknown>;
  text: string;
  headers: Headers;
  instance: number;
  retryAfterSeconds?: number;
  error?: string;
}

/** What a client needs of the run: the instances, the clock of faults, the log and the captcha answers. */
export interface ClientWorld {
  urls: string[];
  faultActive: () => boolean;
  record: (exchange: Exchange) => void;
  /** The answer the instance made while serving the request tagged `tag` (then forgotten). */
  takeAnswer: (tag: string) => string | undefined;
  /** How long a retry waits at most, whatever Retry-After says. */
  retryCapMs: number;
  /** Counts a post refused for its form token (then sent again with a fresh one). */
  noteTokenRenewal: () => void;
  /** After this time (ms since the epoch) call() stops retrying. */
  retryDeadline: () => number;
}

export interface RequestSpec {
  method?: string;
  path: string;
  /** A JSON body (sent as application/json), or a raw body with its own content type. */
  json?: unknown;
  raw?: { body: string; contentType: string };
  headers?: Record<string, string>;
  /** The instance to send it to; a random one otherwise. */
  instance?: number;
}

export const SESSION_COOKIE = 'captcha_login.sid';

export class Browser {
  readonly cookies = new Map<string, string>();
  csrf = '';

  constructor(
    readonly world: ClientWorld,
    readonly ip: string,
    readonly random: Random,
  ) {}

  /** Another tab of the same browser at this moment: same cookies and token, its own answers. */
  clone(): Browser {
    const other = new Browser(this.world, this.ip, this.random);
    for (const [name, value] of this.cookies) other.cookies.set(name, value);
    other.csrf = this.csrf;
    return other;
  }

  get sessionCookie(): string | undefined {
    const value = this.cookies.get(SESSION_COOKIE);
    return value === undefined ? undefined : `${SESSION_COOKIE}=${value}`;
  }

  pickInstance(): number {
    return this.random.int(0, this.world.urls.length - 1);
  }

  /** One request, one answer (status 0 when none came). */
  async send(kind: string, spec: RequestSpec): Promise<Answer> {
    const instance = spec.instance ?? this.pickInstance();
    const headers = new Headers(spec.headers);
    headers.set('x-forwarded-for', this.ip);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    let body: string | undefined;
    if (spec.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(spec.json);
    } else if (spec.raw) {
      headers.set('content-type', spec.raw.contentType);
      body = spec.raw.body;
    }
    const duringFault = this.world.faultActive();
    const started = Date.now();
    let answer: Answer;
    try {
      const send = () =>
        fetch(`${this.world.urls[instance]}${spec.path}`, {
          method: spec.method ?? (body === undefined ? 'GET' : 'POST'),
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
        });
      // A kept-alive connection the server closed as idle just as this request went out is
      // reset at once, before the server read anything (the client's race, as browsers know
      // it): sent again once on a new connection. A reset after a wait is an answer missing.
      const res = await send().catch((err: unknown) => {
        if (!isStaleConnection(err) || Date.now() - started > STALE_RESET_MS) throw err;
        return send();
      });
      this.#keepCookies(res.headers);
      // Pictures are read to the end as a browser does (cancelling would close the connection).
      const text = res.headers.get('content-type')?.startsWith('image/') ? (await res.arrayBuffer(), '') : await res.text();
      let parsed: Record<string, unknown> | undefined;
      if (res.headers.get('content-type')?.includes('application/json')) {
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = undefined;
        }
      }
      const retryAfter = res.headers.get('retry-after');
      answer = {
        status: res.status,
        code: (parsed?.error as { code?: string } | undefined)?.code,
        body: parsed,
        text,
        headers: res.headers,
        instance,
        retryAfterSeconds: retryAfter === null ? undefined : Number(retryAfter),
      };
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      answer = { status: 0, text: '', headers: new Headers(), instance, error: String(cause ?? err) };
    }
    this.world.record({ kind, instance, status: answer.status, code: answer.code, ms: Date.now() - started, duringFault, error: answer.error });
    return answer;
  }

  /**
   * The request until it is answered with something else than 503 (the retry rule); with
   * how many 503s it met. A post refused for a stale form token is sent once more with a
   * fresh one, as the page scripts do.
   */
  async call(kind: string, spec: RequestSpec): Promise<Answer & { saw503: number }> {
    let saw503 = 0;
    let tokenRenewed = false;
    for (;;) {
      const answer = await this.send(kind, spec);
      if (answer.code === 'csrf_failed' && spec.headers?.['x-csrf-token'] !== undefined && !tokenRenewed && (await this.renewToken())) {
        tokenRenewed = true;
        spec = { ...spec, headers: { ...spec.headers, 'x-csrf-token': this.csrf } };
        continue;
      }
      if (answer.status !== 503 || Date.now() > this.world.retryDeadline()) return { ...answer, saw503 };
      saw503 += 1;
      await this.waitToRetry(answer);
      // The retry goes wherever the load balancer sends it, unless the caller chose.
      spec = { ...spec, instance: undefined };
    }
  }

  /** Fetches a fresh form token (what the pages do after csrf_failed); false when none came. */
  async renewToken(): Promise<boolean> {
    this.world.noteTokenRenewal();
    const answer = await this.call('csrf-token', { path: '/csrf-token' });
    const token = answer.body?.token;
    if (answer.status !== 200 || typeof token !== 'string') return false;
    this.csrf = token;
    return true;
  }

  /** Waits what Retry-After asks, capped for the run. */
  async waitToRetry(answer: Answer): Promise<void> {
    const asked = (answer.retryAfterSeconds ?? 1) * 1000;
    const ms = Math.min(asked, this.world.retryCapMs) * this.random.between(0.5, 1);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Opens a page (retrying 503s); keeps its form token. Returns the page's HTML, or undefined when it did not open. */
  async open(path: string): Promise<{ status: number; html: string } | undefined> {
    const answer = await this.call(path === '/' ? 'home' : 'page', { path, headers: { accept: 'text/html' } });
    if (answer.status !== 200) return { status: answer.status, html: '' };
    this.csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(answer.text)?.[1] ?? this.csrf;
    return { status: 200, html: answer.text };
  }

  /** Loads the captcha picture of `slot`; returns the answer the instance made for it, under a key of its own. */
  async picture(slot: string): Promise<{ key: string; answer: string } | undefined> {
    const tag = randomUUID();
    const answer = await this.call('picture', { path: `/get_validCode_img?id=${encodeURIComponent(slot)}&n=${tag.slice(0, 8)}`, headers: { 'x-chaos-tag': tag, accept: 'image/png' } });
    const made = this.world.takeAnswer(tag);
    if (answer.status !== 200 || made === undefined) return undefined;
    return { key: tag, answer: made };
  }

  #keepCookies(headers: Headers): void {
    for (const cookie of headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie) || /max-age=0/i.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** A form page's captcha slot, token and (when the page has one) sign-up key. */
export function formOf(html: string): { slot: string; signupKey?: string } | undefined {
  const slot = /data-captcha-id="([^"]+)"/.exec(html)?.[1];
  if (!slot) return undefined;
  return { slot, signupKey: /data-signup-key="([^"]+)"/.exec(html)?.[1] };
}
