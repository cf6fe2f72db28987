/**
 * GET /healthz: the process is up and serving (for a supervisor's liveness check), and
 * whether attack mode is on (for the operator): the last state read from the shared
 * counters (read at most every few seconds), with `countersUnavailable` while they cannot
 * be read, so it answers during an outage too.
 * GET /readyz: every store answers (for a load balancer): 200, or 503 with Retry-After
 * through the error handler while one does not. Neither touches the session.
 */
import { Router } from 'express';
import type { AttackMode } from '../attack/attack-mode.js';

export function healthRoutes(ready: () => Promise<void>, attackMode: AttackMode): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    // A read (when one is due) keeps the state fresh; its failure shows in last().
    await attackMode.state().catch(() => undefined);
    const { on, level, unavailable } = attackMode.last();
    res.set('Cache-Control', 'no-store').json({ ok: true, attackMode: { on, level, ...(unavailable && { countersUnavailable: true }) } });
  });
  router.get('/readyz', async (_req, res) => {
    await ready();
    res.set('Cache-Control', 'no-store').json({ ok: true });
  });
  return router;
}
