/**
 * Prometheus metrics (prom-client), one registry per app so tests can run several apps.
 * Hot-path counters are bound to their labels once, so an announce pays for no label lookup.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  announces: { ok: Counter.Internal; failure: Counter.Internal; rateLimited: Counter.Internal; error: Counter.Internal };
  scrapes: { ok: Counter.Internal; failure: Counter.Internal };
  httpDuration: Histogram<'route'>;
  routeTimers: Record<'announce' | 'scrape' | 'graphql' | 'compat' | 'other', Histogram.Internal<'route'>>;
  flushes: Counter<'result'>;
}

export interface MetricSources {
  swarmTotals(): Promise<{ swarms: number; peers: number; seeders: number; leechers: number }>;
  flushLagSeconds(): number;
  pendingCredit(): number;
}

export function createMetrics(sources: MetricSources, opts: { defaultMetrics: boolean }): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const announces = new Counter({ name: 'tracker_announces_total', help: 'HTTP and WebSocket announces by result', labelNames: ['result'], registers: [registry] });
  const scrapes = new Counter({ name: 'tracker_scrapes_total', help: 'Scrapes by result', labelNames: ['result'], registers: [registry] });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
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
  new Gauge({ name: 'accounting_pending_entries', help: 'User-torrent credit entries waiting for the next flush', registers: [registry], collect() { this.set(sources.pendingCredit()); } });
  return {
    registry,
    announces: { ok: announces.labels('ok'), failure: announces.labels('failure'), rateLimited: announces.labels('rate_limited'), error: announces.labels('error') },
    scrapes: { ok: scrapes.labels('ok'), failure: scrapes.labels('failure') },
    httpDuration,
    routeTimers: {
      announce: httpDuration.labels('announce'),
      scrape: httpDuration.labels('scrape'),
      graphql: httpDuration.labels('graphql'),
      compat: httpDuration.labels('compat'),
      other: httpDuration.labels('other'),
    },
    flushes,
  };
}
