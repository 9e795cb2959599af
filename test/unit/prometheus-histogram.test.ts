// Our histogram must read like prom-client's own for the same observations: the same lines a
// Prometheus server parses (series in another order), only cheaper to fill.
import fc from "fast-check";
import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createHistogram } from "../../src/prometheus-histogram.ts";

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];
const CLASSES = ["2xx", "4xx", "5xx"];

describe("createHistogram", () => {
  it("prints what prom-client's Histogram prints for the same observations, labelled or not", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...CLASSES), fc.oneof(fc.double({ min: 0, max: 20, noNaN: true }), fc.constantFrom(...BUCKETS))), { maxLength: 60 }),
        async (observations) => {
          const ours = new Registry();
          const theirs = new Registry();
          const labelled = createHistogram(ours, { name: "h_seconds", help: "a help", buckets: BUCKETS, label: { name: "status_class", values: CLASSES } });
          const plain = createHistogram(ours, { name: "p_seconds", help: "plain", buckets: BUCKETS }).get("")!;
          const reference = new Histogram({ name: "h_seconds", help: "a help", buckets: BUCKETS, labelNames: ["status_class"], registers: [theirs] });
          const plainReference = new Histogram({ name: "p_seconds", help: "plain", buckets: BUCKETS, registers: [theirs] });
          for (const [statusClass, value] of observations) {
            labelled.get(statusClass)!.observe(value);
            reference.labels(statusClass).observe(value);
            plain.observe(value);
            plainReference.observe(value);
          }
          // Series come in the order of their first observation there, of their label values here.
          const lines = async (registry: Registry) => (await registry.metrics()).split("\n").sort();
          expect(await lines(ours)).toEqual(await lines(theirs));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("an untouched unlabelled histogram shows its zeros; reset() empties it", async () => {
    const registry = new Registry();
    const cells = createHistogram(registry, { name: "x_rows", help: "rows", buckets: [1, 10] }).get("")!;
    expect(await registry.metrics()).toBe(
      "# HELP x_rows rows\n# TYPE x_rows histogram\n" +
        'x_rows_bucket{le="1"} 0\nx_rows_bucket{le="10"} 0\nx_rows_bucket{le="+Inf"} 0\nx_rows_sum 0\nx_rows_count 0\n',
    );
    cells.observe(5);
    cells.observe(50);
    expect(await registry.metrics()).toContain('x_rows_bucket{le="10"} 1\nx_rows_bucket{le="+Inf"} 2\nx_rows_sum 55\nx_rows_count 2');
    registry.resetMetrics();
    expect(await registry.metrics()).toContain("x_rows_count 0");
  });
});
