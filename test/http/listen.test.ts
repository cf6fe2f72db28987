import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { test, type TestContext } from 'node:test';
import { createHttpServer } from '../../src/http/listen.js';
import { build } from '../helpers/build.js';

const TIMEOUTS = { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 1_000 };
/** Expired connections are looked for every second; more on a loaded machine. */
const SLACK_MS = 2_500;

async function listen(t: TestContext): Promise<number> {
  const server = createHttpServer((await build(t)).app, TIMEOUTS);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  t.after(() => server.closeAllConnections());
  return (server.address() as AddressInfo).port;
}

/** Writes `text` and then stalls; resolves with what came back and when the server closed the connection. */
function stall(port: number, text: string): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after 8 s (answer so far: ${JSON.stringify(answer)})`));
    }, 8_000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ answer, closedAfterMs: performance.now() - started });
    });
  });
}

test('a request body that trickles in is cut off with 408 after the request timeout', async (t) => {
  const port = await listen(t);
  const head = 'POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user';
  const { answer, closedAfterMs } = await stall(port, head);
  assert.match(answer, /^HTTP\/1\.1 408/);
  assert.ok(closedAfterMs >= TIMEOUTS.requestTimeoutMs - 100, `closed after ${closedAfterMs.toFixed(0)} ms, before the timeout`);
  assert.ok(closedAfterMs < TIMEOUTS.requestTimeoutMs + SLACK_MS, `closed after ${closedAfterMs.toFixed(0)} ms`);
});

test('headers that never end are cut off after the headers timeout', async (t) => {
  const port = await listen(t);
  const { answer, closedAfterMs } = await stall(port, 'GET /login HTTP/1.1\r\nHost: x\r\n');
  assert.match(answer, /^HTTP\/1\.1 408/);
  assert.ok(closedAfterMs < TIMEOUTS.headersTimeoutMs + SLACK_MS, `closed after ${closedAfterMs.toFixed(0)} ms`);
});

test('an idle kept-alive connection is closed after the keep-alive timeout', async (t) => {
  const port = await listen(t);
  const { answer, closedAfterMs } = await stall(port, 'GET /static/css/app.css HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 200/, 'answered, then the idle connection was closed by the server');
  assert.ok(closedAfterMs < TIMEOUTS.keepAliveTimeoutMs + SLACK_MS, `closed after ${closedAfterMs.toFixed(0)} ms`);
});
