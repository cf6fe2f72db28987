/**
 * GET /healthz: the process is up and serving (for a supervisor's liveness check).
 * GET /readyz: every store answers (for a load balancer): 200, or 503 with Retry-After
 * through the error handler while one does not. Neither touches the session.
 */
import { Router } from 'express';

export function healthRoutes(ready: () => Promise<void>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ ok: true });
  });
  router.get('/readyz', async (_req, res) => {
    await ready();
    res.set('Cache-Control', 'no-store').json({ ok: true });
  });
  return router;
}
