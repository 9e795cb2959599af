import type { Metric, Registry } from "prom-client";

/** One label value's buckets, bound once: `observe` is a scan of the bounds and three writes. */
export interface HistogramCells {
  observe(value: number): void;
}

export interface HistogramOptions {
  name: string;
  help: string;
  /** Upper bounds, ascending; +Inf is added. */
  buckets: readonly number[];
  /** One label and its every value, for a bounded set of children. @default no label */
  label?: { name: string; values: readonly string[] };
}

/**
 * A Prometheus histogram registered with a prom-client registry, which formats it like its own.
 * prom-client's `observe` builds and hashes a label object per call (about 1.4 µs here); this
 * one's cost is a few nanoseconds, cheap enough for every request. Children are fixed at creation.
 */
export function createHistogram(registry: Registry, options: HistogramOptions): Map<string, HistogramCells> {
  const { name, help, buckets, label } = options;
  const children = new Map<string, Cells>();
  for (const value of label?.values ?? [""]) children.set(value, new Cells(buckets));
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    collect: undefined,
    reset: () => children.forEach((cells) => cells.reset()),
    async get() {
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      for (const [labelValue, cells] of children) {
        // A labelled child appears once it has counted something, as prom-client's do.
        if (label && cells.count === 0) continue;
        const own = label ? { [label.name]: labelValue } : {};
        let cumulative = 0;
        buckets.forEach((bound, i) => {
          cumulative += cells.counts[i]!;
          values.push({ metricName: `${name}_bucket`, labels: { le: bound, ...own }, value: cumulative });
        });
        values.push({ metricName: `${name}_bucket`, labels: { le: "+Inf", ...own }, value: cells.count });
        values.push({ metricName: `${name}_sum`, labels: own, value: cells.sum });
        values.push({ metricName: `${name}_count`, labels: own, value: cells.count });
      }
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
  };
  registry.registerMetric(metric as unknown as Metric);
  return children;
}

class Cells implements HistogramCells {
  /** Observations per bucket (not cumulative); the +Inf bucket is `count`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i] = this.counts[i]! + 1;
        return;
      }
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
