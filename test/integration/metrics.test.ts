// SPEC §8, issue 13 §3: GET /metrics in the Prometheus text format. Each outcome is sent over real
// HTTP and the series it must move are read back from /metrics; no label ever holds a key, a
// key id or an address.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { apiKeys } from "../../src/db/schema/index.ts";
import { createKeyscopeServer } from "../../src/keyscope-server.ts";
import { createLogger } from "../../src/logger.ts";
import { generateKey } from "../../src/keys/key-format.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { oneConnection, send } from "../helpers/http.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

/** One scrape: `name{labels}` → value, for every sample line. */
type Samples = Map<string, number>;

function parseSamples(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

async function scrape(server: TestServer): Promise<Samples> {
  const res = await send(server.url.replace("/graphql", "/metrics"));
  expect(res.status).toBe(200);
  return parseSamples(res.text);
}

/** How much each named sample moved while `work` ran (0 for samples that did not appear). */
async function delta(server: TestServer, names: string[], work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await scrape(server);
  await work();
  const after = await scrape(server);
  return Object.fromEntries(names.map((name) => [name, (after.get(name) ?? 0) - (before.get(name) ?? 0)]));
}

const checks = (reason: string, source: string) => `keyscope_key_verifications_total{reason="${reason}",source="${source}"}`;
const refusals = (reason: string) => `keyscope_guard_refusals_total{reason="${reason}"}`;
const HITS = "keyscope_key_cache_hits_total";
const MISSES = "keyscope_key_cache_misses_total";
const LOOKUPS = "keyscope_key_lookup_duration_seconds_count";

describe.each(databaseKinds)("GET /metrics on %s", (kind) => {
  let server: TestServer;
  const secrets: string[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    server = await startServer(kind);
  });
  afterAll(() => server?.close());

  async function issue(options: Parameters<TestServer["issueKey"]>[0] = {}) {
    const issued = await server.issueKey(options);
    secrets.push(issued.secret);
    ids.push(issued.keyId, issued.userId);
    return issued;
  }

  it("answers the Prometheus text format: Keyscope's series and Node's process series", async () => {
    const res = await send(server.url.replace("/graphql", "/metrics"));
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("no-store");
    for (const name of [
      "keyscope_key_verifications_total", "keyscope_guard_refusals_total", "keyscope_key_cache_entries", "keyscope_key_cache_hits_total",
      "keyscope_key_cache_misses_total", "keyscope_key_cache_evictions_total", "keyscope_rate_limited_requests_total",
      "keyscope_throttled_requests_total", "keyscope_key_lookup_duration_seconds", "keyscope_usage_flush_duration_seconds",
      "keyscope_usage_flush_rows", "keyscope_usage_flush_failures_total", "keyscope_usage_pending_requests",
      "keyscope_cache_invalidations_received_total", "keyscope_http_request_duration_seconds",
      "process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes",
    ]) {
      expect(res.text, name).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
    }
    const post = await send(server.url.replace("/graphql", "/metrics"), { method: "POST", body: "" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("no key: KEY_MISSING once per request; a guarded field adds a guard refusal", async () => {
    const moved = await delta(server, [checks("KEY_MISSING", "none"), refusals("KEY_MISSING")], async () => {
      await server.query("{ products { id } }");
      await server.query("{ inventory { quantity } }");
    });
    expect(moved).toEqual({ [checks("KEY_MISSING", "none")]: 2, [refusals("KEY_MISSING")]: 1 });
  });

  it("a valid key: OK from the database, then from the cache, then from the connection's memo", async () => {
    const { secret } = await issue();
    const first = await delta(server, [checks("OK", "database"), MISSES, LOOKUPS], () => server.query("{ inventory { quantity } }", [apiKey(secret)]));
    expect(first).toEqual({ [checks("OK", "database")]: 1, [MISSES]: 1, [LOOKUPS]: 1 });
    const second = await delta(server, [checks("OK", "cache"), HITS, LOOKUPS], () => server.query("{ inventory { quantity } }", [apiKey(secret)]));
    expect(second).toEqual({ [checks("OK", "cache")]: 1, [HITS]: 1, [LOOKUPS]: 0 });
    const connection = oneConnection(server.url);
    try {
      const memo = await delta(server, [checks("OK", "cache"), checks("OK", "connection"), HITS], async () => {
        for (let i = 0; i < 3; i++) expect((await connection.post("{ inventory { quantity } }", [apiKey(secret)])).status).toBe(200);
      });
      expect(memo).toEqual({ [checks("OK", "cache")]: 1, [checks("OK", "connection")]: 2, [HITS]: 3 });
    } finally {
      connection.close();
    }
  });

  it("each refused key: its reason and what decided it", async () => {
    const expired = await issue({ expiresAt: new Date(Date.now() + 60_000) });
    await server.app.database.db.update(apiKeys).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiKeys.id, expired.keyId));
    const revoked = await issue();
    await server.app.keys.revokeKey(CLI_PRINCIPAL, revoked.keyId);
    const disabled = await issue();
    await server.app.keys.updateKey(CLI_PRINCIPAL, disabled.keyId, { active: false });
    const other = await issue();
    const cases: [string, string, [string, string][]][] = [
      ["KEY_MALFORMED", "none", [apiKey("ks_typo")]],
      ["KEY_MALFORMED", "none", [apiKey("")]],
      ["KEY_INVALID", "database", [apiKey(generateKey("ks"))]],
      ["KEY_EXPIRED", "database", [apiKey(expired.secret)]],
      ["KEY_REVOKED", "database", [apiKey(revoked.secret)]],
      ["KEY_DISABLED", "database", [apiKey(disabled.secret)]],
      ["AMBIGUOUS_KEY", "none", [apiKey(other.secret), ["authorization", `Bearer ${disabled.secret}`]]],
    ];
    for (const [reason, source, headers] of cases) {
      const moved = await delta(server, [checks(reason, source)], async () => expect((await server.query("{ products { id } }", headers)).status).toBe(401));
      expect(moved, reason).toEqual({ [checks(reason, source)]: 1 });
    }
  });

  it("guard refusals by reason: wrong client type, missing scope", async () => {
    const { secret } = await issue({ clientType: "mobile", scopes: [] });
    const moved = await delta(server, [refusals("CLIENT_TYPE_NOT_ALLOWED"), refusals("SCOPE_MISSING")], () =>
      // salesReport needs a backoffice key; a product's supplier needs suppliers:read.
      server.query('{ salesReport { revenue } product(id: "p1") { supplier { id } } }', [apiKey(secret)]),
    );
    expect(moved).toEqual({ [refusals("CLIENT_TYPE_NOT_ALLOWED")]: 1, [refusals("SCOPE_MISSING")]: 1 });
  });

  it("a revoke evicts the cached key; the invalidation is heard back over LISTEN/NOTIFY", async () => {
    const { secret, keyId } = await issue();
    await server.query("{ inventory { quantity } }", [apiKey(secret)]);
    const moved = await delta(server, ['keyscope_key_cache_evictions_total{cause="change"}', 'keyscope_cache_invalidations_received_total{kind="key"}'], async () => {
      await server.app.keys.revokeKey(CLI_PRINCIPAL, keyId);
      await expect.poll(async () => (await scrape(server)).get('keyscope_cache_invalidations_received_total{kind="key"}') ?? 0, { timeout: 5000 }).toBeGreaterThan(0);
    });
    expect(moved['keyscope_key_cache_evictions_total{cause="change"}']).toBeGreaterThanOrEqual(1);
    expect(moved['keyscope_cache_invalidations_received_total{kind="key"}']).toBe(1);
  });

  it("usage: counts waiting, then a flush's duration and rows", async () => {
    const { secret } = await issue();
    await server.app.usage.flush();
    for (let i = 0; i < 3; i++) await server.query("{ inventory { quantity } }", [apiKey(secret)]);
    expect((await scrape(server)).get("keyscope_usage_pending_requests")).toBeGreaterThanOrEqual(3);
    const moved = await delta(server, ["keyscope_usage_flush_duration_seconds_count", "keyscope_usage_flush_rows_count", "keyscope_usage_flush_failures_total"], () => server.app.usage.flush());
    expect(moved["keyscope_usage_flush_duration_seconds_count"]).toBe(1);
    expect(moved["keyscope_usage_flush_rows_count"]).toBe(1);
    expect(moved["keyscope_usage_flush_failures_total"]).toBe(0);
    // What the scrape itself and the requests above counted may be written later; nothing of this key is waiting.
    expect((await scrape(server)).get("keyscope_usage_pending_requests")).toBe(0);
  });

  it("HTTP requests by status class; the cache's size", async () => {
    const moved = await delta(server, ['keyscope_http_request_duration_seconds_count{status_class="2xx"}', 'keyscope_http_request_duration_seconds_count{status_class="4xx"}'], async () => {
      await server.query("{ products { id } }");
      await server.query("{ products { id } }", [apiKey("ks_typo")]);
      await send(server.url.replace("/graphql", "/nowhere"));
    });
    // The first scrape after the work counts itself as a 2xx too: it is answered before it is logged.
    expect(moved['keyscope_http_request_duration_seconds_count{status_class="2xx"}']).toBeGreaterThanOrEqual(1);
    expect(moved['keyscope_http_request_duration_seconds_count{status_class="4xx"}']).toBe(2);
    expect((await scrape(server)).get("keyscope_key_cache_entries")).toBe(server.app.cache.size);
  });

  it("no label holds a key, a key id, a user id or an address; Keyscope's labels take only their fixed values", async () => {
    const res = await send(server.url.replace("/graphql", "/metrics"));
    for (const value of [...secrets, ...ids, "127.0.0.1", "::ffff:", "ks_"]) expect(res.text).not.toContain(value);
    const allowed: Record<string, Set<string>> = {
      reason: new Set(["OK", "KEY_MISSING", "KEY_MALFORMED", "KEY_INVALID", "KEY_EXPIRED", "KEY_REVOKED", "KEY_DISABLED", "AMBIGUOUS_KEY", "KEY_STORE_UNAVAILABLE", "CLIENT_TYPE_NOT_ALLOWED", "SCOPE_MISSING"]),
      source: new Set(["none", "connection", "cache", "database", "stale_cache"]),
      cause: new Set(["size", "change"]),
      kind: new Set(["key", "user"]),
      status_class: new Set(["1xx", "2xx", "3xx", "4xx", "5xx"]),
    };
    for (const line of res.text.split("\n").filter((l) => l.startsWith("keyscope_"))) {
      for (const [, label, value] of line.matchAll(/(\w+)="([^"]*)"/g)) {
        if (label === "le") continue;
        expect(allowed[label!], `${label} in ${line}`).toBeDefined();
        expect(allowed[label!]!.has(value!), line).toBe(true);
      }
    }
  });
});

describe.each(databaseKinds)("metrics when things go wrong on %s", (kind) => {
  it("rate-limited and throttled requests are counted", async () => {
    const server = await startServer(kind, { limits: { rateLimit: { limit: 1, windowSeconds: 60 }, failedAuth: { limit: 2, windowSeconds: 60 } } });
    try {
      const { secret } = await server.issueKey();
      const limited = await delta(server, ["keyscope_rate_limited_requests_total", checks("OK", "cache")], async () => {
        expect((await server.query("{ products { id } }", [apiKey(secret)])).status).toBe(200);
        expect((await server.query("{ products { id } }", [apiKey(secret)])).status).toBe(429);
      });
      expect(limited).toEqual({ "keyscope_rate_limited_requests_total": 1, [checks("OK", "cache")]: 1 });
      const throttled = await delta(server, ["keyscope_throttled_requests_total", checks("KEY_MALFORMED", "none")], async () => {
        for (let i = 0; i < 2; i++) expect((await server.query("{ products { id } }", [apiKey("ks_typo")])).status).toBe(401);
        expect((await server.query("{ products { id } }", [apiKey("ks_typo")])).status).toBe(429);
      });
      expect(throttled).toEqual({ "keyscope_throttled_requests_total": 1, [checks("KEY_MALFORMED", "none")]: 2 });
    } finally {
      await server.close();
    }
  });

  it("the key store unreachable: KEY_STORE_UNAVAILABLE, a cached key from the stale cache, a failed usage flush", async () => {
    const server = await startServer(kind, { cache: { ttlSeconds: 1 } });
    try {
      const unknown = await server.issueKey();
      const cached = await server.issueKey();
      await server.query("{ inventory { quantity } }", [apiKey(cached.secret)]);
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past the lifetime: only a stale entry is left
      const before = await scrape(server);
      await server.app.database.close();
      expect((await server.query("{ inventory { quantity } }", [apiKey(unknown.secret)])).status).toBe(503);
      expect((await server.query("{ inventory { quantity } }", [apiKey(cached.secret)])).status).toBe(200);
      await server.app.usage.flush();
      const after = await scrape(server);
      const moved = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
      expect(moved(checks("KEY_STORE_UNAVAILABLE", "database"))).toBe(1);
      expect(moved(checks("OK", "stale_cache"))).toBe(1);
      expect(moved("keyscope_usage_flush_failures_total")).toBe(1);
    } finally {
      await server.app.close().catch(() => {});
      await server.database.drop();
    }
  });
});

describe("switching metrics off, or onto their own port", () => {
  it("metricsEnabled: false (KEYSCOPE_METRICS=false): no /metrics at all", async () => {
    const server = await startServer("pglite", { metricsEnabled: false });
    try {
      expect((await send(server.url.replace("/graphql", "/metrics"))).status).toBe(404);
      expect((await server.query("{ products { id } }")).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("metricsPort (KEYSCOPE_METRICS_PORT): /metrics there and only there", async () => {
    const app = await createKeyscopeServer({ dataDir: "memory://", metricsPort: 0, logger: createLogger("silent") });
    try {
      const { url, metricsUrl } = await app.listen({ port: 0, host: "127.0.0.1" });
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(new URL(metricsUrl!).port).not.toBe(new URL(url).port);
      const scraped = await send(metricsUrl!);
      expect(scraped.status).toBe(200);
      expect(scraped.text).toMatch(/^# TYPE keyscope_key_verifications_total counter$/m);
      expect((await send(metricsUrl!.replace("/metrics", "/graphql"))).status, "nothing else on the metrics port").toBe(404);
      expect((await send(url.replace("/graphql", "/metrics"))).status, "not on the public port").toBe(404);
    } finally {
      await app.close();
    }
  });

  it("two servers in one process count apart", async () => {
    const a = await startServer("pglite");
    const b = await startServer("pglite");
    try {
      const before = await scrape(b);
      for (let i = 0; i < 3; i++) await a.query("{ products { id } }");
      const after = await scrape(b);
      expect(after.get(checks("KEY_MISSING", "none")) ?? 0).toBe(before.get(checks("KEY_MISSING", "none")) ?? 0);
      expect((await scrape(a)).get(checks("KEY_MISSING", "none"))).toBe(3);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
