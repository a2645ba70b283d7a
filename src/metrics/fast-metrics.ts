/**
 * Hot-path metrics with fixed label values. prom-client's Counter.inc and Histogram.observe
 * hash and validate a label object on every call, even through a bound `labels()` child
 * (3-5 % of an announce); here each label value owns plain numbers (a Float64Array of bucket
 * counts for a histogram), an update is an addition, and the Prometheus series are built only
 * when /metrics is read.
 */
import type { Metric, Registry } from 'prom-client';

export interface LatencyTimer {
  /** One request's duration in seconds. */
  observe(seconds: number): void;
}

class RouteBuckets implements LatencyTimer {
  /** counts[i]: observations <= bounds[i] and > bounds[i-1]; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += seconds;
    this.count++;
  }
}

/** One exposition line: what prom-client's registry reads from a metric's get(). */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** The registry only needs name, help, type and get(); prom-client's Metric type is the union of its own classes. */
function register(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', values: () => Sample[], reset: () => void): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset,
  };
  registry.registerMetric(metric as unknown as Metric);
}

export interface FastCounter {
  inc(): void;
}

/** A counter with one label whose values are known up front. */
export function createLabeledCounter<V extends string>(registry: Registry, opts: { name: string; help: string; label: string; values: readonly V[] }): Record<V, FastCounter> {
  const byValue = new Map<V, { n: number; inc(): void }>(
    opts.values.map((v) => [
      v,
      {
        n: 0,
        inc() {
          this.n++;
        },
      },
    ]),
  );
  register(
    registry,
    opts.name,
    opts.help,
    'counter',
    () => [...byValue].map(([v, c]) => ({ metricName: opts.name, labels: { [opts.label]: v }, value: c.n })),
    () => {
      for (const c of byValue.values()) c.n = 0;
    },
  );
  return Object.fromEntries(byValue) as unknown as Record<V, FastCounter>;
}

export function createRouteLatency<R extends string>(registry: Registry, opts: { name: string; help: string; routes: readonly R[]; buckets: readonly number[] }): Record<R, LatencyTimer> {
  const bounds = [...opts.buckets].sort((a, b) => a - b);
  const byRoute = new Map<R, RouteBuckets>(opts.routes.map((r) => [r, new RouteBuckets(bounds)]));
  register(registry, opts.name, opts.help, 'histogram', () => {
    const values: Sample[] = [];
    for (const [route, h] of byRoute) {
      let cumulative = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += h.counts[i] as number;
        values.push({ metricName: `${opts.name}_bucket`, labels: { le: i < bounds.length ? (bounds[i] as number) : '+Inf', route }, value: cumulative });
      }
      values.push({ metricName: `${opts.name}_sum`, labels: { route }, value: h.sum });
      values.push({ metricName: `${opts.name}_count`, labels: { route }, value: h.count });
    }
    return values;
  }, () => {
    for (const h of byRoute.values()) {
      h.counts.fill(0);
      h.sum = 0;
      h.count = 0;
    }
  });
  return Object.fromEntries(byRoute) as unknown as Record<R, LatencyTimer>;
}
