import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { GuardReason } from "./errors.ts";
import { createHistogram } from "./prometheus-histogram.ts";
import {
  KEY_CHECK_OUTCOMES, KEY_CHECK_SOURCES, type CacheEvictionCause, type KeyCheckOutcome, type KeyCheckSource, type Metrics, type ObservedGauges,
} from "./metrics.ts";

export interface PrometheusMetrics extends Metrics {
  /** This server's own series (Node's process series live in one registry per process). */
  readonly registry: Registry;
  exposition(): Promise<{ contentType: string; body: string }>;
}

const GUARD_REASONS: readonly GuardReason[] = ["KEY_MISSING", "CLIENT_TYPE_NOT_ALLOWED", "SCOPE_MISSING"];
const EVICTION_CAUSES: readonly CacheEvictionCause[] = ["size", "change"];
const CHANGE_KINDS = ["key", "user"] as const;
const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

/**
 * Keyscope's series in a registry of their own (two servers in one process do not collide).
 * What the request path counts costs nanoseconds: counters are plain numbers bumped in place and
 * handed to prom-client only when scraped, and histograms are our own buckets
 * (prometheus-histogram.ts). prom-client's `labels(…).inc()` hashes the label set again on every
 * call, and its histogram's `observe` costs about 1.4 µs.
 */
export function createPrometheusMetrics(): PrometheusMetrics {
  const registry = new Registry();
  const registers = [registry];
  const process = processRegistry();

  const checks = cells2(KEY_CHECK_OUTCOMES, KEY_CHECK_SOURCES);
  const refusals = cells(GUARD_REASONS);
  const evictions = cells(EVICTION_CAUSES);
  const changes = cells(CHANGE_KINDS);
  const tally = { hits: 0, misses: 0, rateLimited: 0, throttled: 0, flushFailures: 0 };
  // A check decided by the cache (or the connection's memo of it) is a hit; one that asked the database a miss.
  const cacheEffect: Record<KeyCheckSource, "hits" | "misses" | undefined> = {
    none: undefined, connection: "hits", cache: "hits", database: "misses", stale_cache: "misses",
  };
  let gauges: ObservedGauges = { cacheEntries: () => 0, usagePending: () => 0 };

  counterOf2(registers, "keyscope_key_verifications_total", "Requests by the outcome of their API key check (reason: OK or SPEC §4; KEY_MISSING: no key sent) and what decided it (source).", ["reason", "source"], checks);
  counterOf(registers, "keyscope_guard_refusals_total", "Fields refused by @requiresKey, by reason.", "reason", refusals);
  counterOf(registers, "keyscope_key_cache_evictions_total", "Entries that left the key cache: pushed out by newer ones (size) or evicted after a change (change).", "cause", evictions);
  counterOf(registers, "keyscope_cache_invalidations_received_total", "Cache invalidations heard over PostgreSQL LISTEN/NOTIFY (or PGlite's), by what changed.", "kind", changes);
  plainCounter(registers, "keyscope_key_cache_hits_total", "Key checks answered from the key cache (or from the connection's memo of it).", () => tally.hits);
  plainCounter(registers, "keyscope_key_cache_misses_total", "Key checks that had to ask the database.", () => tally.misses);
  plainCounter(registers, "keyscope_rate_limited_requests_total", "Requests refused with 429 because their key was over its rate limit.", () => tally.rateLimited);
  plainCounter(registers, "keyscope_throttled_requests_total", "Requests refused with 429 because their address failed too many key checks.", () => tally.throttled);
  plainCounter(registers, "keyscope_usage_flush_failures_total", "Usage flushes that failed (their counts are kept for the next flush).", () => tally.flushFailures);
  new Gauge({ name: "keyscope_key_cache_entries", help: "Credentials held in the key cache.", registers, collect() { this.set(gauges.cacheEntries()); } });
  new Gauge({ name: "keyscope_usage_pending_requests", help: "Requests counted for usage and not yet written to the database.", registers, collect() { this.set(gauges.usagePending()); } });

  const one = (name: string, help: string, buckets: readonly number[]) => createHistogram(registry, { name, help, buckets }).get("")!;
  const lookups = one("keyscope_key_lookup_duration_seconds", "Time to look up a key's credential in the database (cache misses).", [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  const flushSeconds = one("keyscope_usage_flush_duration_seconds", "Time to write one batch of usage counts.", [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  const flushRows = one("keyscope_usage_flush_rows", "Key-hour rows in one batch of usage counts.", [1, 5, 10, 50, 100, 500, 1000, 5000, 10_000, 50_000]);
  const http = createHistogram(registry, {
    name: "keyscope_http_request_duration_seconds", help: "Time to answer an HTTP request on the public port, by status class.",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], label: { name: "status_class", values: STATUS_CLASSES },
  });
  const byStatusClass = STATUS_CLASSES.map((c) => http.get(c)!);

  return {
    registry,
    fieldRefused: (reason) => void refusals[reason].n++,
    keyChecked(outcome, source) {
      checks[outcome][source].n++;
      const effect = cacheEffect[source];
      if (effect) tally[effect]++;
    },
    keyLookedUp: (seconds) => lookups.observe(seconds),
    cacheEvicted: (cause, entries) => void (evictions[cause].n += entries),
    cacheChangeHeard: (kind) => void changes[kind].n++,
    rateLimited: () => void tally.rateLimited++,
    throttled: () => void tally.throttled++,
    usageFlushed({ seconds, rows, ok }) {
      flushSeconds.observe(seconds);
      flushRows.observe(rows);
      if (!ok) tally.flushFailures++;
    },
    httpRequest(status, seconds) {
      byStatusClass[Math.floor(status / 100) - 1]?.observe(seconds);
    },
    observe(observed) {
      gauges = observed;
    },
    async exposition() {
      const merged = Registry.merge([process, registry]);
      return { contentType: merged.contentType, body: await merged.metrics() };
    },
  };
}

/** A count bumped in place. */
interface Cell {
  n: number;
}

function cells<K extends string>(keys: readonly K[]): Record<K, Cell> {
  return Object.fromEntries(keys.map((k) => [k, { n: 0 }])) as Record<K, Cell>;
}

function cells2<A extends string, B extends string>(as: readonly A[], bs: readonly B[]): Record<A, Record<B, Cell>> {
  return Object.fromEntries(as.map((a) => [a, cells(bs)])) as Record<A, Record<B, Cell>>;
}

/** A counter whose value is read from `value()` when scraped. */
function plainCounter(registers: Registry[], name: string, help: string, value: () => number): void {
  new Counter({ name, help, registers, collect() { this.reset(); this.inc(value()); } });
}

/** A counter with one label, read from its cells when scraped; a series appears once counted. */
function counterOf<K extends string>(registers: Registry[], name: string, help: string, label: string, table: Record<K, Cell>): void {
  new Counter({
    name, help, registers, labelNames: [label],
    collect() {
      this.reset();
      for (const [value, cell] of Object.entries<Cell>(table)) if (cell.n > 0) this.inc({ [label]: value }, cell.n);
    },
  });
}

function counterOf2<A extends string, B extends string>(registers: Registry[], name: string, help: string, labels: [string, string], table: Record<A, Record<B, Cell>>): void {
  new Counter({
    name, help, registers, labelNames: labels,
    collect() {
      this.reset();
      for (const [a, row] of Object.entries<Record<B, Cell>>(table)) {
        for (const [b, cell] of Object.entries<Cell>(row)) if (cell.n > 0) this.inc({ [labels[0]]: a, [labels[1]]: b }, cell.n);
      }
    },
  });
}

// Node's process series (CPU, memory, event loop lag, GC…) describe the process, not a server:
// collected once per process, whatever the number of servers in it.
let processMetrics: Registry | undefined;

function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}
