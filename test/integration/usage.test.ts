// SPEC §6 ApiKey.usage and §7: usage per key per hour (requests, rejected) and lastUsedAt, written
// in batches (never one write per request), atomic across instances, no count lost to a failed write.
import { Writable } from "node:stream";
import { randomInt } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { openDatabase, type Db } from "../../src/db/client.ts";
import { apiKeys, keyUsage } from "../../src/db/schema/index.ts";
import { generateKey } from "../../src/keys/key-format.ts";
import { createUsageRecorder } from "../../src/limits/usage-recorder.ts";
import { createLogger } from "../../src/logger.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { ADMIN_SCOPES } from "../helpers/management.ts";
import { manualClock } from "../helpers/manual-clock.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";

const HOUR = 3_600_000;
const USAGE_QUERY = "query($id: ID!, $since: DateTime, $until: DateTime) { apiKey(id: $id) { usage(since: $since, until: $until) { start requests rejected } lastUsedAt } }";

interface Bucket {
  start: string;
  requests: number;
  rejected: number;
}

describe.each(databaseKinds)("usage on %s", (kind) => {
  let server: TestServer;
  let admin: { secret: string };
  beforeAll(async () => {
    // No timed flush during the suite: each test decides when counts are written.
    server = await startServer(kind, { usageFlushSeconds: 3600 });
    admin = await server.issueKey({ role: "ADMIN", scopes: ADMIN_SCOPES, email: "usage-admin@example.com" });
  });
  afterAll(() => server?.close());

  /** ApiKey.usage and lastUsedAt, read by the admin key (whose own requests count for itself only). */
  async function readUsage(id: string, range: { since?: string; until?: string } = {}): Promise<{ usage: Bucket[]; lastUsedAt: string | null }> {
    const res = await server.query(USAGE_QUERY, [apiKey(admin.secret)], { id, ...range });
    expect(res.json.errors, JSON.stringify(res.json.errors)).toBeUndefined();
    return res.json.data.apiKey;
  }

  async function rowsOf(keyId: string, db: Db = server.app.database.db) {
    return db.select().from(keyUsage).where(eq(keyUsage.keyId, keyId)).orderBy(keyUsage.hour);
  }

  async function lastUsedOf(keyId: string): Promise<Date | null> {
    const [row] = await server.app.database.db.select({ at: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, keyId));
    return row!.at;
  }

  /** A key of client type mobile with no scopes and its own rate limit. */
  async function mobileKey(rateLimit?: { limit: number; windowSeconds: number }) {
    const user = await server.app.users.createUser(CLI_PRINCIPAL, { email: `usage-${randomInt(1e9)}@example.com`, clientTypes: ["mobile"] });
    const issued = await server.app.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "usage key", clientType: "mobile", rateLimit: rateLimit ?? null });
    return { secret: issued.secret, keyId: issued.apiKey.id };
  }

  describe("counted through real requests", () => {
    it("each request counts once; a request with refused fields or over its rate limit counts as rejected, once", async () => {
      const startedAt = Date.now();
      const hourBefore = floorHour(startedAt);
      const { secret, keyId } = await mobileKey({ limit: 6, windowSeconds: 60 });
      const send = (query: string) => server.query(query, [apiKey(secret)]);

      for (let i = 0; i < 2; i++) expect((await send("{ inventory { quantity } }")).json.errors).toBeUndefined();
      for (let i = 0; i < 2; i++) {
        const res = await send("{ inventory { quantity } salesReport { orders } }");
        expect(res.status).toBe(200);
        expect(res.json.data.inventory).toHaveLength(3);
        expect(res.json.errors.map((e: any) => e.extensions.reason)).toEqual(["CLIENT_TYPE_NOT_ALLOWED"]);
      }
      // Two refused fields in one request: still one rejected request.
      const twice = await send("{ salesReport { orders } orders { id } }");
      expect(twice.json.errors.map((e: any) => e.extensions.reason).sort()).toEqual(["CLIENT_TYPE_NOT_ALLOWED", "SCOPE_MISSING"]);
      expect((await send("{ products { id } }")).json.errors).toBeUndefined();
      // The key's limit is 6: these two are refused whole.
      for (let i = 0; i < 2; i++) expect((await send("{ products { id } }")).status).toBe(429);
      // Neither a request without a key nor one with an unknown key counts for anybody's key.
      await server.query("{ inventory { quantity } }");
      expect((await server.query("{ products { id } }", [apiKey(generateKey("ks"))])).status).toBe(401);

      // Nothing is written per request: the counts wait for the flush.
      expect(await rowsOf(keyId)).toEqual([]);
      expect(await lastUsedOf(keyId)).toBeNull();

      await server.app.usage.flush();
      const hourAfter = floorHour(Date.now());
      const { usage, lastUsedAt } = await readUsage(keyId);
      expectHourly(usage, 24, hourAfter);
      expect(total(usage)).toEqual({ requests: 8, rejected: 5 });
      const counted = usage.filter((b) => b.requests > 0).map((b) => Date.parse(b.start));
      expect(counted.every((h) => h === hourBefore || h === hourAfter)).toBe(true);
      if (hourBefore === hourAfter) expect(usage.at(-1)).toEqual({ start: iso(hourAfter), requests: 8, rejected: 5 });

      expect(lastUsedAt).not.toBeNull();
      expect(Date.parse(lastUsedAt!)).toBeGreaterThanOrEqual(startedAt);
      expect(Date.parse(lastUsedAt!)).toBeLessThanOrEqual(Date.now());
    });

    it("me { apiKey { usage } }: the asking request is counted too, after its own answer", async () => {
      const { secret, keyId } = await mobileKey();
      for (let i = 0; i < 3; i++) await server.query("{ inventory { quantity } }", [apiKey(secret)]);
      await server.app.usage.flush();
      const ask = async () => {
        const res = await server.query("{ me { apiKey { id usage { requests rejected } lastUsedAt } } }", [apiKey(secret)]);
        expect(res.json.errors).toBeUndefined();
        expect(res.json.data.me.apiKey.id).toBe(keyId);
        return res.json.data.me.apiKey;
      };
      const first = await ask();
      expect(total(first.usage)).toEqual({ requests: 3, rejected: 0 });
      expect(first.lastUsedAt).not.toBeNull();
      await server.app.usage.flush();
      expect(total((await ask()).usage)).toEqual({ requests: 4, rejected: 0 });
    });

    it("a key never used: lastUsedAt null and 24 hourly zero buckets ending with the current hour", async () => {
      const { keyId } = await mobileKey();
      const { usage, lastUsedAt } = await readUsage(keyId);
      expect(lastUsedAt).toBeNull();
      expectHourly(usage, 24, floorHour(Date.now()));
      expect(usage.every((b) => b.requests === 0 && b.rejected === 0)).toBe(true);
    });
  });

  describe("ApiKey.usage(since, until)", () => {
    it("since 3 hours ago: 4 hourly buckets, oldest first, ending with the current hour", async () => {
      const { keyId } = await mobileKey();
      const now = Date.now();
      const { usage } = await readUsage(keyId, { since: iso(now - 3 * HOUR) });
      const hourNow = floorHour(Date.now());
      expect(usage).toHaveLength(4);
      expectHourly(usage, 4, hourNow);
    });

    it("puts stored counts in their hour and fills the hours between with zeros; until is inclusive of its hour", async () => {
      const { keyId } = await mobileKey();
      const base = floorHour(Date.now()) - 48 * HOUR;
      await server.app.database.db.insert(keyUsage).values([
        { keyId, hour: new Date(base + HOUR), requests: 5, rejected: 1 },
        { keyId, hour: new Date(base + 4 * HOUR), requests: 7, rejected: 0 },
        { keyId, hour: new Date(base + 9 * HOUR), requests: 9, rejected: 9 }, // after until
        { keyId, hour: new Date(base - HOUR), requests: 3, rejected: 3 }, // before since
      ]);
      // Mid-hour bounds select the hours that hold them.
      const { usage } = await readUsage(keyId, { since: iso(base + 30 * 60_000), until: iso(base + 5 * HOUR + 59 * 60_000) });
      expect(usage).toEqual([
        { start: iso(base), requests: 0, rejected: 0 },
        { start: iso(base + HOUR), requests: 5, rejected: 1 },
        { start: iso(base + 2 * HOUR), requests: 0, rejected: 0 },
        { start: iso(base + 3 * HOUR), requests: 0, rejected: 0 },
        { start: iso(base + 4 * HOUR), requests: 7, rejected: 0 },
        { start: iso(base + 5 * HOUR), requests: 0, rejected: 0 },
      ]);
      // since and until in one hour: that one bucket.
      expect((await readUsage(keyId, { since: iso(base + HOUR + 1), until: iso(base + HOUR + 2) })).usage).toEqual([
        { start: iso(base + HOUR), requests: 5, rejected: 1 },
      ]);
    });

    it("since after until: BAD_USER_INPUT naming since, and nothing else returned for the key", async () => {
      const { keyId } = await mobileKey();
      const until = floorHour(Date.now()) - 10 * HOUR;
      const res = await server.query(USAGE_QUERY, [apiKey(admin.secret)], { id: keyId, since: iso(until + 2 * HOUR), until: iso(until) });
      expectUsageRefused(res, "since");
    });

    it("at most 31 days: 744 hourly buckets pass, one hour more is BAD_USER_INPUT naming since", async () => {
      const { keyId } = await mobileKey();
      const until = floorHour(Date.now());
      const longest = await readUsage(keyId, { since: iso(until - 743 * HOUR), until: iso(until) });
      expectHourly(longest.usage, 744, until);
      const tooLong = await server.query(USAGE_QUERY, [apiKey(admin.secret)], { id: keyId, since: iso(until - 744 * HOUR), until: iso(until) });
      expectUsageRefused(tooLong, "since");
      // With until left out (now), 32 days back is too long as well.
      const noUntil = await server.query(USAGE_QUERY, [apiKey(admin.secret)], { id: keyId, since: iso(Date.now() - 32 * 24 * HOUR) });
      expectUsageRefused(noUntil, "since");
    });
  });

  describe("the recorder (createUsageRecorder)", () => {
    const quiet = createLogger("silent");

    it("never writes per request: 100 records, no database call until flush, then one transaction and one row", async () => {
      const { keyId } = await mobileKey();
      const hour = floorHour(Date.now()) - 5 * HOUR;
      const clock = manualClock(hour + 17 * 60_000);
      const watched = instrument(server.app.database.db);
      const recorder = createUsageRecorder({ db: watched.db, clock, logger: quiet, flushSeconds: 3600 });
      for (let i = 0; i < 100; i++) {
        recorder.record(keyId, i % 10 === 0);
        clock.advance(1000);
      }
      // A sleep that proves an absence: a deferred write (a timer or a microtask) would have run by now.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(watched.calls).toEqual([]);
      expect(await rowsOf(keyId)).toEqual([]);

      await recorder.flush();
      expect(watched.calls).toEqual(["transaction"]);
      expect(await rowsOf(keyId)).toEqual([{ keyId, hour: new Date(hour), requests: 100, rejected: 10 }]);
      expect(await lastUsedOf(keyId)).toEqual(new Date(hour + 17 * 60_000 + 99_000));

      // An empty flush writes nothing; the next hour gets a row of its own.
      await recorder.flush();
      expect(watched.calls).toEqual(["transaction"]);
      clock.advance(HOUR);
      recorder.record(keyId, true);
      await recorder.stop();
      expect(await rowsOf(keyId)).toEqual([
        { keyId, hour: new Date(hour), requests: 100, rejected: 10 },
        { keyId, hour: new Date(hour + HOUR), requests: 1, rejected: 1 },
      ]);
    });

    it("a failed flush keeps every count: the next flush writes them all", async () => {
      const { keyId } = await mobileKey();
      const hour = floorHour(Date.now()) - 3 * HOUR;
      const clock = manualClock(hour + 60_000);
      const lines: string[] = [];
      const logger = createLogger("warn", new Writable({ write: (chunk, _e, done) => void (lines.push(String(chunk)), done()) }));
      const flaky = instrument(server.app.database.db, { failTransactions: 1 });
      const recorder = createUsageRecorder({ db: flaky.db, clock, logger, flushSeconds: 3600 });

      for (let i = 0; i < 7; i++) recorder.record(keyId, i < 2);
      await expect(recorder.flush()).resolves.toBeUndefined();
      expect(await rowsOf(keyId)).toEqual([]);
      expect(await lastUsedOf(keyId)).toBeNull();
      expect(lines.join("")).toContain("usage flush failed");

      clock.advance(5000);
      for (let i = 0; i < 3; i++) recorder.record(keyId, i === 0);
      await recorder.flush();
      expect(flaky.calls).toEqual(["transaction", "transaction"]);
      expect(await rowsOf(keyId)).toEqual([{ keyId, hour: new Date(hour), requests: 10, rejected: 3 }]);
      expect(await lastUsedOf(keyId)).toEqual(new Date(hour + 65_000));
      await recorder.stop();
    });

    it("counts land in their own hour when the clock crosses hours both ways, a failed flush over two hours included", async () => {
      const { keyId } = await mobileKey();
      const hour = floorHour(Date.now()) - 9 * HOUR;
      const clock = manualClock(hour + HOUR - 1000);
      const flaky = instrument(server.app.database.db, { failTransactions: 1 });
      const recorder = createUsageRecorder({ db: flaky.db, clock, logger: quiet, flushSeconds: 3600 });

      recorder.record(keyId, false); // last second of the hour
      clock.advance(2000);
      recorder.record(keyId, true); // next hour
      clock.advance(-2000); // the clock is set back (an NTP step)
      recorder.record(keyId, false);
      await recorder.flush(); // fails: all three are kept
      clock.advance(3000);
      recorder.record(keyId, false);
      await recorder.stop();

      expect(await rowsOf(keyId)).toEqual([
        { keyId, hour: new Date(hour), requests: 2, rejected: 0 },
        { keyId, hour: new Date(hour + HOUR), requests: 2, rejected: 1 },
      ]);
      expect(await lastUsedOf(keyId)).toEqual(new Date(hour + HOUR + 2000));
    });

    it("requests counted while a flush is failing are merged with its counts, and lastUsedAt keeps the latest", async () => {
      const { keyId } = await mobileKey();
      const hour = floorHour(Date.now()) - 4 * HOUR;
      const clock = manualClock(hour + 60_000);
      let release!: () => void;
      const flaky = instrument(server.app.database.db, { failTransactions: 1, hold: new Promise<void>((resolve) => (release = resolve)) });
      const recorder = createUsageRecorder({ db: flaky.db, clock, logger: quiet, flushSeconds: 3600 });

      clock.advance(30_000);
      recorder.record(keyId, true);
      const failing = recorder.flush();
      while (flaky.calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
      clock.advance(10_000); // a request while the write is out
      recorder.record(keyId, false);
      release();
      await failing;
      await recorder.stop();

      expect(await rowsOf(keyId)).toEqual([{ keyId, hour: new Date(hour), requests: 2, rejected: 1 }]);
      expect(await lastUsedOf(keyId)).toEqual(new Date(hour + 100_000));
    });

    it("stop() retries a failed last write, so a graceful stop loses nothing", async () => {
      const { keyId } = await mobileKey();
      const hour = floorHour(Date.now()) - 2 * HOUR;
      const flaky = instrument(server.app.database.db, { failTransactions: 1 });
      const recorder = createUsageRecorder({ db: flaky.db, clock: manualClock(hour + 1), logger: quiet, flushSeconds: 3600 });
      for (let i = 0; i < 5; i++) recorder.record(keyId, false);
      await recorder.stop();
      expect(await rowsOf(keyId)).toEqual([{ keyId, hour: new Date(hour), requests: 5, rejected: 0 }]);
    });

    it("started, it flushes on its own every flushSeconds", async () => {
      const { keyId } = await mobileKey();
      const recorder = createUsageRecorder({ db: server.app.database.db, clock: manualClock(), logger: quiet, flushSeconds: 1 });
      recorder.start();
      try {
        recorder.record(keyId, false);
        recorder.record(keyId, true);
        // Nothing calls flush: only the recorder's own timer can write the row.
        const rows = await waitFor("the recorder's own flush", async () => {
          const written = await rowsOf(keyId);
          return written.length > 0 ? written : undefined;
        });
        expect(rows.map((r) => [r.requests, r.rejected])).toEqual([[2, 1]]);
      } finally {
        await recorder.stop();
      }
    });

    it("two recorders (two instances) on one database add up exactly, and lastUsedAt only moves forward", async () => {
      const { keyId } = await mobileKey();
      const hour = floorHour(Date.now()) - 7 * HOUR;
      // On PostgreSQL the second instance has connections of its own; PGlite has one connection.
      const second = kind === "postgres" ? await openDatabase(server.database.options) : undefined;
      try {
        const clockA = manualClock(hour + 10 * 60_000);
        const clockB = manualClock(hour + 5 * 60_000);
        const a = createUsageRecorder({ db: server.app.database.db, clock: clockA, logger: quiet, flushSeconds: 3600 });
        const b = createUsageRecorder({ db: second?.db ?? server.app.database.db, clock: clockB, logger: quiet, flushSeconds: 3600 });
        for (let round = 0; round < 5; round++) {
          for (let i = 0; i < 7; i++) a.record(keyId, i === 0);
          for (let i = 0; i < 13; i++) b.record(keyId, i < 2);
          await Promise.all([a.flush(), b.flush()]);
        }
        expect(await rowsOf(keyId)).toEqual([{ keyId, hour: new Date(hour), requests: 100, rejected: 15 }]);
        expect(await lastUsedOf(keyId)).toEqual(new Date(hour + 10 * 60_000));

        // B's clock is behind: its later flush does not move lastUsedAt back.
        b.record(keyId, false);
        await b.flush();
        expect(await lastUsedOf(keyId)).toEqual(new Date(hour + 10 * 60_000));
        expect((await rowsOf(keyId))[0]!.requests).toBe(101);
        await Promise.all([a.stop(), b.stop()]);
      } finally {
        await second?.close();
      }
    });
  });
});

/** `count` consecutive hourly buckets, oldest first, the last starting at `lastHour`. */
function expectHourly(usage: Bucket[], count: number, lastHour: number): void {
  expect(usage).toHaveLength(count);
  usage.forEach((bucket, i) => {
    expect(bucket.start).toBe(iso(lastHour - (count - 1 - i) * HOUR));
    expect(Number.isInteger(bucket.requests) && Number.isInteger(bucket.rejected)).toBe(true);
  });
}

function expectUsageRefused(res: { status: number; json: any }, field: string): void {
  expect(res.status).toBe(200);
  expect(res.json).toEqual({
    data: { apiKey: null },
    errors: [{ message: expect.any(String), locations: [expect.any(Object)], path: ["apiKey", "usage"], extensions: { code: "BAD_USER_INPUT", field } }],
  });
}

function total(usage: { requests: number; rejected: number }[]) {
  return usage.reduce((sum, b) => ({ requests: sum.requests + b.requests, rejected: sum.rejected + b.rejected }), { requests: 0, rejected: 0 });
}

/**
 * The database as the recorder sees it, with every method call it makes listed; the first
 * `failTransactions` transactions fail as a lost connection would.
 */
/** `db` that records its calls; the first `failTransactions` transactions fail, after `hold` settles. */
function instrument(db: Db, options: { failTransactions?: number; hold?: Promise<unknown> } = {}): { db: Db; calls: string[] } {
  const calls: string[] = [];
  let failures = options.failTransactions ?? 0;
  const proxy = new Proxy(db, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        if (prop === "transaction" && failures > 0) {
          failures--;
          return Promise.resolve(options.hold).then(() => Promise.reject(new Error("Connection terminated unexpectedly")));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { db: proxy, calls };
}

const floorHour = (ms: number) => ms - (ms % HOUR);
const iso = (ms: number) => new Date(ms).toISOString();
