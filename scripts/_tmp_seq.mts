import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { composeApp } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
const dir = mkdtempSync(path.join(tmpdir(), 'seq-'));
const c = composeApp(loadConfig({ DATA_DIR: dir, RATE_LIMITS: 'off', LOG_LEVEL: 'silent' }), createLogger('silent'));
const server = c.app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const first = await fetch(base + '/get_validCode_img?id=bench');
const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
const block = async (withCookie: boolean, n: number) => {
  const cpu = process.cpuUsage(); const t = performance.now();
  for (let i = 0; i < n; i++) { const r = await fetch(base + '/get_validCode_img?id=bench', withCookie ? { headers: { cookie } } : {}); await r.arrayBuffer(); }
  const u = process.cpuUsage(cpu); return [(u.user + u.system) / 1000 / n, (performance.now() - t) / n];
};
await block(true, 200); await block(false, 200);
const acc = { a: [0, 0], b: [0, 0] };
for (let round = 0; round < 6; round++) for (const k of (round % 2 ? ['a', 'b'] : ['b', 'a']) as ('a' | 'b')[]) { const [cpu, wall] = await block(k === 'a', 150); acc[k][0] += cpu / 6; acc[k][1] += wall / 6; }
console.log(`cookie kept: cpu ${acc.a[0].toFixed(3)} ms/req wall ${acc.a[1].toFixed(3)}; cookieless: cpu ${acc.b[0].toFixed(3)} wall ${acc.b[1].toFixed(3)}`);
server.close(); c.close(); rmSync(dir, { recursive: true });
