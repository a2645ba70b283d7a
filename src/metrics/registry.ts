/**
 * Prometheus metrics (prom-client), one registry per app so tests can run several apps.
 * Hot-path counters and the latency histogram are fast-metrics.ts: an announce pays for no label lookup.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SUSPICION_REASONS, type SuspicionReason } from '../accounting/deltas.ts';
import { createLabeledCounter, createRouteLatency, type FastCounter, type LatencyTimer } from './fast-metrics.ts';

export interface Metrics {
  registry: Registry;
  announces: Record<'ok' | 'failure' | 'rateLimited' | 'error', FastCounter>;
  scrapes: Record<'ok' | 'failure', FastCounter>;
  routeTimers: Record<'announce' | 'scrape' | 'graphql' | 'compat' | 'other', LatencyTimer>;
  flushes: Counter<'result'>;
  /** Announces whose reported upload was not credited in full, by reason (accounting/deltas.ts). */
  suspicious: Record<SuspicionReason, FastCounter>;
}

export interface MetricSources {
  swarmTotals(): Promise<{ swarms: number; peers: number; seeders: number; leechers: number }>;
  flushLagSeconds(): number;
  pendingCredit(): number;
}

export function createMetrics(sources: MetricSources, opts: { defaultMetrics: boolean }): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const announces = createLabeledCounter(registry, { name: 'tracker_announces_total', help: 'HTTP and WebSocket announces by result', label: 'result', values: ['ok', 'failure', 'rate_limited', 'error'] });
  const scrapes = createLabeledCounter(registry, { name: 'tracker_scrapes_total', help: 'Scrapes by result', label: 'result', values: ['ok', 'failure'] });
  const routeTimers = createRouteLatency(registry, {
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route',
    routes: ['announce', 'scrape', 'graphql', 'compat', 'other'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  const suspicious = createLabeledCounter(registry, {
    name: 'tracker_suspicious_announces_total',
    help: 'Announces whose reported upload was not credited in full: above the upload rate cap, or without another leecher in the swarm',
    label: 'reason',
    values: SUSPICION_REASONS.map(([, reason]) => reason),
  });
  const flushes = new Counter({ name: 'accounting_flushes_total', help: 'Accounting flushes by result', labelNames: ['result'], registers: [registry] });
  // The four swarm gauges are collected together: one read of the store per scrape.
  let totals: { at: number; value: Promise<{ swarms: number; peers: number; seeders: number; leechers: number }> } | null = null;
  const readTotals = () => {
    if (!totals || Date.now() - totals.at > 1000) totals = { at: Date.now(), value: sources.swarmTotals() };
    return totals.value;
  };
  new Gauge({ name: 'tracker_swarms', help: 'Swarms with at least one peer', registers: [registry], async collect() { this.set((await readTotals()).swarms); } });
  new Gauge({ name: 'tracker_peers', help: 'Peer sessions', registers: [registry], async collect() { this.set((await readTotals()).peers); } });
  new Gauge({ name: 'tracker_seeders', help: 'Seeding peer sessions', registers: [registry], async collect() { this.set((await readTotals()).seeders); } });
  new Gauge({ name: 'tracker_leechers', help: 'Leeching peer sessions', registers: [registry], async collect() { this.set((await readTotals()).leechers); } });
  new Gauge({ name: 'accounting_flush_lag_seconds', help: 'Age of the oldest credit not yet written to the database', registers: [registry], collect() { this.set(sources.flushLagSeconds()); } });
  new Gauge({ name: 'accounting_pending_entries', help: 'User-torrent credit entries not yet written to the database (waiting, or in the flush in progress)', registers: [registry], collect() { this.set(sources.pendingCredit()); } });
  return {
    registry,
    announces: { ok: announces.ok, failure: announces.failure, rateLimited: announces.rate_limited, error: announces.error },
    scrapes,
    routeTimers,
    flushes,
    suspicious,
  };
}
