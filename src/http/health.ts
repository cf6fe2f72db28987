/**
 * GET /healthz: the process is up and serving (for a supervisor's liveness check), and
 * whether attack mode is on (for the operator; its state is cached, so this reads the
 * shared counters at most every few seconds and answers even while they are down).
 * GET /readyz: every store answers (for a load balancer): 200, or 503 with Retry-After
 * through the error handler while one does not. Neither touches the session.
 */
import { Router } from 'express';
import type { AttackState } from '../attack/attack-mode.js';

export function healthRoutes(ready: () => Promise<void>, attackState: () => Promise<AttackState>): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const { on, level } = await attackState();
    res.set('Cache-Control', 'no-store').json({ ok: true, attackMode: { on, level } });
  });
  router.get('/readyz', async (_req, res) => {
    await ready();
    res.set('Cache-Control', 'no-store').json({ ok: true });
  });
  return router;
}
