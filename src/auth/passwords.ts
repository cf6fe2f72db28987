/**
 * Password hashing with node's scrypt at OWASP's recommended cost (N=2^17, r=8, p=1).
 *
 * The stored string carries its own parameters (`scrypt$N$r$p$salt$hash`), so the cost
 * can be raised later without breaking existing hashes. scrypt runs in libuv's thread
 * pool, so a hash (~128 MiB, a few hundred ms) does not block the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keyLength: number;
  saltLength: number;
}

export const OWASP_SCRYPT: Readonly<ScryptParams> = { N: 2 ** 17, r: 8, p: 1, keyLength: 32, saltLength: 16 };

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** scrypt needs 128·N·r bytes; maxmem must exceed that or node refuses. */
function costOptions({ N, r, p }: Pick<ScryptParams, 'N' | 'r' | 'p'>): ScryptOptions {
  return { N, r, p, maxmem: 256 * N * r };
}

export async function hashPassword(password: string, params: ScryptParams = OWASP_SCRYPT): Promise<string> {
  const salt = randomBytes(params.saltLength);
  const key = await scryptAsync(password.normalize('NFC'), salt, params.keyLength, costOptions(params));
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** False for a wrong password and for a stored value this module did not write. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltText, keyText] = stored.split('$');
  if (scheme !== 'scrypt' || saltText === undefined || keyText === undefined) return false;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (![params.N, params.r, params.p].every(Number.isSafeInteger)) return false;
  const expected = Buffer.from(keyText, 'base64');
  const actual = await scryptAsync(password.normalize('NFC'), Buffer.from(saltText, 'base64'), expected.length, costOptions(params));
  return timingSafeEqual(actual, expected);
}
