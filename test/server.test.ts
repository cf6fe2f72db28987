/**
 * SIGTERM on the real server process: it stops accepting connections at once, lets a
 * request in flight finish, closes the stores and exits with code 0, well within 10 s.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { ROOT_DIR } from '../src/paths.js';
import { TEST_DATABASE_URL } from './helpers/services.js';

test('SIGTERM: no new connections, the request in flight is answered, exit 0 within 10 s', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sigterm-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT_DIR, 'src/server.ts')], {
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => server.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /"url":"http:\/\/127\.0\.0\.1:(\d+)\/login"/.exec(output);
      if (url) resolve(Number(url[1]));
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });

  // A request in flight: its headers are in, its body is not yet.
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const body = JSON.stringify({ text: 'correct horse' });
  socket.write(`POST /password-strength HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  let response = '';
  socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
  const closed = new Promise((resolve) => socket.once('close', resolve));

  const signalled = Date.now();
  server.kill('SIGTERM');
  // The listening socket closes at once: a new connection is refused.
  await assert.rejects(
    async () => {
      for (;;) {
        await new Promise<void>((resolve, reject) => {
          const probe = net.connect(port, '127.0.0.1', () => (probe.destroy(), resolve()));
          probe.once('error', reject);
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    { code: 'ECONNREFUSED' },
  );
  socket.end(body);
  await closed;
  assert.match(response, /^HTTP\/1\.1 \d{3} /, 'the request in flight got its answer');
  assert.equal(await exited, 0);
  assert.ok(Date.now() - signalled < 10_000, `exited ${Date.now() - signalled} ms after SIGTERM`);
});

/** A TCP server that accepts connections and never answers (a store that hangs at start-up); resolves its port. */
async function silentServer(t: TestContext, onConnection: () => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    onConnection();
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  return (silent.address() as net.AddressInfo).port;
}

for (const workers of [1, 2]) {
  test(`SIGTERM while starting (WORKERS=${workers}, the stores not yet open): exit 0 at once`, async (t) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sigterm-start-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    let connections = 0;
    let allConnected: () => void = () => {};
    const connected = new Promise<void>((resolve) => (allConnected = resolve));
    // Redis that never answers: every process that opens the stores waits there.
    const port = await silentServer(t, () => (connections += 1) === workers && allConnected());
    const server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT_DIR, 'src/server.ts')], {
      env: {
        ...process.env,
        PORT: '0',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        WORKERS: String(workers),
        REDIS_URL: `redis://127.0.0.1:${port}`,
        DATABASE_URL: TEST_DATABASE_URL,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.after(() => server.kill('SIGKILL'));
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    await connected;
    const signalled = Date.now();
    server.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.ok(Date.now() - signalled < 2_000, `exited ${Date.now() - signalled} ms after SIGTERM`);
    assert.equal(output.match(/stopped while starting/g)?.length, workers, 'each process that was starting said so');
  });
}
