/**
 * The attack simulator's server: the compiled production wiring of a checkout (its
 * dist/compose.js, dist/config.js, dist/http/listen.js, dist/logger.js; ATTACK_SERVER_DIR
 * names the checkout), configured from the environment as `node dist/server.js` is, in a
 * single process. Run as a child of scripts/attack/main.ts with an IPC channel.
 *
 * How the simulator learns captcha answers, as the tests do (test/helpers/build.ts wraps
 * the generator): composeApp's `generateCode` override wraps the production generator.
 * The generator is called inside GET /get_validCode_img, while the request is being
 * served, so this harness runs each request in an AsyncLocalStorage holding its response
 * (set around the whole app, where the harness creates the HTTP server) and the wrapper
 * sets the answer as a response header (ANSWER_HEADER) on exactly the picture that shows
 * it, before the PNG is sent. No ordering or id matching is needed, so concurrent pictures
 * cannot be mixed up; a picture served without a recorded answer (a checkout without the
 * seam, or a lost async context) is counted as `unmapped` and the client then misreads it.
 * Nothing of this exists in `node dist/server.js`.
 *
 * IPC: sends {type:'ready', port}; answers {type:'stats'} with this process's CPU time
 * (user + system, all threads: scrypt in libuv's pool counts) and the answer counts.
 * Exits on SIGTERM/SIGINT or when the parent goes away, closing the stores.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { composeApp as ComposeApp } from '../../src/compose.js';
import type { loadConfig as LoadConfig } from '../../src/config.js';
import type { createHttpServer as CreateHttpServer } from '../../src/http/listen.js';
import type { createLogger as CreateLogger } from '../../src/logger.js';
import type { createCodeGenerator as CreateCodeGenerator } from '../../src/captcha/code.js';
import { ANSWER_HEADER } from './flow.js';

export type HarnessMessage = { type: 'ready'; port: number } | { type: 'stats'; cpuMicros: number; answers: number; unmapped: number };

const serverDir = process.env.ATTACK_SERVER_DIR;
if (!serverDir || !process.send) throw new Error('serve.ts runs as a child of scripts/attack/main.ts (ATTACK_SERVER_DIR and an IPC channel)');
const send = process.send.bind(process);
const fromDist = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(serverDir, 'dist', file)).href)) as T;

const { composeApp } = await fromDist<{ composeApp: typeof ComposeApp }>('compose.js');
const { loadConfig } = await fromDist<{ loadConfig: typeof LoadConfig }>('config.js');
const { createHttpServer } = await fromDist<{ createHttpServer: typeof CreateHttpServer }>('http/listen.js');
const { createLogger } = await fromDist<{ createLogger: typeof CreateLogger }>('logger.js');
const { createCodeGenerator } = await fromDist<{ createCodeGenerator: typeof CreateCodeGenerator }>('captcha/code.js');

const config = loadConfig();
const logger = createLogger(config.logLevel);
// The generator the app would make itself (app.ts), so the answers are the production ones.
const generate = createCodeGenerator({ minLength: config.captcha.length, maxLength: config.captcha.length });
const responses = new AsyncLocalStorage<ServerResponse>();
let answers = 0;
let unmapped = 0;

const { app, close } = await composeApp(config, logger, {
  generateCode: () => {
    const answer = generate();
    const res = responses.getStore();
    if (res && !res.headersSent) {
      res.setHeader(ANSWER_HEADER, answer);
      answers += 1;
    }
    return answer;
  },
});
const server = createHttpServer((req, res) => {
  responses.run(res, () => {
    app(req, res);
  });
  res.once('finish', () => {
    if (req.url?.startsWith('/get_validCode_img') && res.statusCode === 200 && !res.hasHeader(ANSWER_HEADER)) unmapped += 1;
  });
}, config.listen);

server.listen(config.listen.port, config.listen.host, () => {
  send({ type: 'ready', port: (server.address() as AddressInfo).port } satisfies HarnessMessage);
});

process.on('message', (message: { type?: string }) => {
  if (message.type !== 'stats') return;
  const cpu = process.cpuUsage();
  send({ type: 'stats', cpuMicros: cpu.user + cpu.system, answers, unmapped } satisfies HarnessMessage);
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  server.close(() => {
    void close().finally(() => process.exit(0));
  });
  // The parent waits for no one: whatever still holds the process after 5 s is cut off.
  setTimeout(() => process.exit(0), 5_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
