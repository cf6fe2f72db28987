/*
 * Solves an ALTCHA v2 challenge (PBKDF2/SHA-256, deterministic) in a module worker, with
 * altcha-lib's own browser pieces (served from node_modules at /static/altcha): the
 * password is the nonce followed by the counter as a big-endian uint32, the key is
 * PBKDF2 over Web Crypto, and the solution is the first counter whose key starts with
 * the challenge's prefix. Several workers share the counters (start, step), and each
 * reports how many it tried a few times a second, so the page can show progress.
 */
import { PasswordBuffer } from '/static/altcha/pow.js';
import { deriveKey } from '/static/altcha/algorithms/web/pbkdf2.js';
import { bufferStartsWith, bufferToHex, hexToBuffer } from '/static/altcha/helpers.js';

const REPORT_MS = 150;

self.onmessage = async (event) => {
  const { challenge, start, step, limit } = event.data;
  const parameters = challenge.parameters;
  const salt = hexToBuffer(parameters.salt);
  const prefix = hexToBuffer(parameters.keyPrefix);
  const password = new PasswordBuffer(hexToBuffer(parameters.nonce), 'uint32');
  const begun = performance.now();
  let tried = 0;
  let reported = begun;
  try {
    for (let counter = start; counter < limit; counter += step) {
      const { derivedKey } = await deriveKey(parameters, salt, password.setCounter(counter));
      tried += 1;
      if (bufferStartsWith(derivedKey, prefix)) {
        self.postMessage({ type: 'solved', tried, solution: { counter, derivedKey: bufferToHex(derivedKey), time: performance.now() - begun } });
        return;
      }
      if (performance.now() - reported > REPORT_MS) {
        self.postMessage({ type: 'progress', tried });
        tried = 0;
        reported = performance.now();
      }
    }
    self.postMessage({ type: 'exhausted', tried });
  } catch (err) {
    self.postMessage({ type: 'error', message: String(err) });
  }
};
