/**
 * GET /healthz: the process is up and serving (for a supervisor's liveness check), and
 * whether attack mode is on (for the operator): the last state read from the shared
 * counters (read at most every few seconds), with `countersUnavailable` while they cannot
 * be read, so it answers during an outage too.
 * GET /readyz: every store answers (for a load balancer): 200, or 503 with Retry-After
 * through the error handler while one does not. Neither touches the session.
 */
import { Router } from 'express';
import { setTimeout } from 'node:timers/promises';
import type { AttackMode } from '../attack/attack-mode.js';

/** How long /healthz waits for a due read of the attack counters (a hung store answers after 1 s). */
const HEALTH_READ_WAIT_MS = 100;

export function healthRoutes(ready: () => Promise<void>, attackMode: AttackMode): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    // A read (when one is due) keeps the state fresh, but liveness waits on no store for
    // long: after HEALTH_READ_WAIT_MS the answer is the last state read (a failure shows there).
    await Promise.race([attackMode.state().catch(() => undefined), setTimeout(HEALTH_READ_WAIT_MS, undefined, { ref: false })]);
    const { on, level, unavailable } = attackMode.last();
    res.set('Cache-Control', 'no-store').json({ ok: true, attackMode: { on, level, ...(unavailable && { countersUnavailable: true }) } });
  });
  router.get('/readyz', async (_req, res) => {
    await ready();
    res.set('Cache-Control', 'no-store').json({ ok: true });
  });
  return router;
}
