/**
 * /metrics with WORKERS > 1: the primary serves the metrics port, and each scrape asks
 * every worker for its registry over the cluster's IPC channel (prom-client's
 * AggregatorRegistry), so one scrape sees all of them.
 *
 * Each worker labels its series `worker="<cluster id>"`, so the primary's collection keeps
 * them apart rather than summing them: a worker that dies takes its series with it, and
 * a sum would then fall, which Prometheus reads as a counter reset and counts the
 * survivors' totals again as new. Sum over `worker` in the query instead.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsSource } from './serve.js';

/** The labels of this process's series: its cluster id in a worker, none otherwise. */
export function workerLabels(): Record<string, string> | undefined {
  return cluster.worker ? { worker: String(cluster.worker.id) } : undefined;
}

/** In a worker: answers the primary's requests with `registry`. */
export function answerPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // prom-client adds the worker's IPC listener when an AggregatorRegistry is made, and only then.
  new AggregatorRegistry();
}

/** In the primary: every live worker's metrics, asked at each scrape (a worker that does not answer within 5 s fails the scrape). */
export function workersSource(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  return { contentType: aggregator.contentType, read: () => aggregator.clusterMetrics() };
}
