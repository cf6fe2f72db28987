/**
 * A minimal browser for the attack simulator: one client address (its own loopback /24:
 * Linux routes all of 127/8 to this machine, so the server's req.ip is that address), a
 * cookie jar, and the headers a same-origin page script sends. Every request is on a
 * connection of its own (no keep-alive): a kept-alive socket that the server closes at its
 * idle timeout would make a post fail at random, and loopback connections cost nothing
 * worth measuring.
 */
import http from 'node:http';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: () => string;
  json: () => unknown;
}

/** No answer within this long is a failure (the server's own request timeout is 20 s). */
const REQUEST_TIMEOUT_MS = 30_000;

export class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(
    readonly base: string,
    readonly localAddress: string,
  ) {}

  get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.request('GET', path, headers);
  }

  /** A JSON post as the page's jQuery sends it: same origin, the page's form token, JSON both ways. */
  postJson(path: string, body: unknown, csrfToken: string): Promise<Answer> {
    return this.request('POST', path, { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken }, JSON.stringify(body));
  }

  /** A plain form post (the sign-out button). */
  postForm(path: string, fields: Record<string, string>): Promise<Answer> {
    return this.request('POST', path, { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }, new URLSearchParams(fields).toString());
  }

  /** Whether the jar holds a cookie of this name (e.g. a device token). */
  hasCookie(name: string): boolean {
    return this.cookies.has(name);
  }

  private request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    const url = new URL(path, this.base);
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          localAddress: this.localAddress,
          agent: false,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            ...(cookie ? { Cookie: cookie } : {}),
            ...(method === 'POST' ? { Origin: url.origin, 'Sec-Fetch-Site': 'same-origin' } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            this.remember(res.headers['set-cookie'] ?? []);
            const bytes = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: bytes,
              text: () => bytes.toString('utf8'),
              json: () => JSON.parse(bytes.toString('utf8')) as unknown,
            });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Keeps what Set-Cookie sets; an expired or emptied cookie is dropped (sign-out clears the session's). */
  private remember(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = attributes.some((attribute) => {
        const [key = '', val = ''] = attribute.split('=');
        if (key.toLowerCase() === 'max-age') return Number(val) <= 0;
        if (key.toLowerCase() === 'expires') return Date.parse(val) <= Date.now();
        return false;
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** Seconds from a Retry-After header (a number of seconds, as this server sends), else `fallback`. */
export function retryAfterSeconds(answer: Answer, fallback: number): number {
  const value = Number(answer.headers['retry-after']);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}
