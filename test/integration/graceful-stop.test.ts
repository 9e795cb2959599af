// SPEC §7, §8: usage is written in batches, and not one count is lost on a graceful stop. A real
// `npm start` process is stopped by a signal while requests are in flight; afterwards key_usage
// holds exactly the requests that were answered. Then several instances add to the same row.
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseOptions } from "../../src/db/client.ts";
import { apiKeys, keyUsage } from "../../src/db/schema/index.ts";
import { exampleResolvers, exampleTypeDefs } from "../../src/example/catalogue.ts";
import { createKeyscopeServer, type KeyscopeServer } from "../../src/keyscope-server.ts";
import { createLogger } from "../../src/logger.ts";
import { freePort, killAll, minimalEnv, spawnNode, type RunningNode } from "../helpers/child-process.ts";
import { cli, expectSucceeded } from "../helpers/cli.ts";
import { databaseKinds, freshDatabase, type DatabaseKind } from "../helpers/databases.ts";
import { postGraphQL, readResponse, send, type HttpResponse } from "../helpers/http.ts";
import { apiKey } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";

const MAIN = ["--import", "tsx", "src/main.ts"];
const QUERY = "{ products { id } }";
const PRODUCTS = { data: { products: [{ id: "p1" }, { id: "p2" }, { id: "p3" }] } };
const SEEN = "{ me { apiKey { id lastUsedAt usage { requests } } } }";

/** A bootstrapped database: how the CLI and the server (env) and this test (options) reach it. */
interface Target {
  kind: DatabaseKind;
  env: Record<string, string>;
  options: DatabaseOptions;
  secret: string;
  keyId: string;
}

const disposals: (() => Promise<void>)[] = [];

/**
 * A PGlite directory, migrated and bootstrapped once by the CLI, to copy: creating one costs
 * seconds (initdb), copying it does not. Every copy holds the same admin key.
 */
let template: { dir: string; secret: string; keyId: string };

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "keyscope-stop-template-"));
  const issued = await bootstrapWithCli({ KEYSCOPE_DATA_DIR: dir });
  template = { dir, ...issued };
}, 60_000);

afterEach(async () => {
  killAll();
  for (const dispose of disposals.splice(0).reverse()) await dispose();
});

afterAll(async () => {
  killAll();
  if (template) await rm(template.dir, { recursive: true, force: true });
});

describe.each(stopCases())("%s: %s while requests are in flight", (kind, signal) => {
  it("answers every request in flight, exits 0 (killed if not within 10 s), and key_usage holds exactly the answered requests", async () => {
    const target = await freshTarget(kind);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = startMain(target, port, { KEYSCOPE_USAGE_FLUSH_SECONDS: "60" });
    try {
      await waitUntilHealthy(server, base);
      const ask = (query = QUERY) => postGraphQL(`${base}/graphql`, { query }, [apiKey(target.secret)]);
      const answered: HttpResponse[] = [];

      // One at a time, then many at once: 150 requests, nothing flushed yet (60 s interval).
      for (let i = 0; i < 30; i++) answered.push(await ask());
      answered.push(...(await inParallel(120, 20, () => ask())));
      // Nothing is written before the stop (asked over GraphQL: PGlite must not be opened twice).
      // This request is counted too, once answered.
      const before = await ask(SEEN);
      expect(before.json).toEqual({ data: { me: { apiKey: { id: target.keyId, lastUsedAt: null, usage: expect.any(Array) } } } });
      expect(before.json.data.me.apiKey.usage.reduce((sum: number, b: { requests: number }) => sum + b.requests, 0)).toBe(0);

      // Requests whose headers the server has read (it answered 100 Continue) but whose bodies wait.
      const held = Array.from({ length: 10 }, () => holdRequest(`${base}/graphql`, target.secret, QUERY));
      await Promise.all(held.map((h) => h.accepted));
      // And a burst on new connections racing the signal, which comes as the first of them is
      // answered: each is either answered or refused at the door, and counted only if answered.
      const racingRequests = Array.from({ length: 20 }, () => postOnNewConnection(`${base}/graphql`, target.secret, QUERY));
      const racing = Promise.allSettled(racingRequests);
      await Promise.race(racingRequests).catch(() => {});

      server.child.kill(signal);
      await waitUntilRefused(port);
      const stillHeld = await Promise.all(held.map((h) => h.release()));
      const raced = await racing;
      const exit = await server.exited(10_000);

      expect(exit.signal).toBeNull();
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stderr).toBe("");
      expect(exit.stdout).not.toMatch(/flush failed/);

      for (const res of stillHeld) expect({ status: res.status, json: res.json }).toEqual({ status: 200, json: PRODUCTS });
      for (const outcome of raced) {
        if (outcome.status === "fulfilled") answered.push(outcome.value);
        else expect((outcome.reason as NodeJS.ErrnoException).code).toMatch(/^(ECONNREFUSED|ECONNRESET|EPIPE)$/);
      }
      for (const res of answered) expect({ status: res.status, json: res.json }).toEqual({ status: 200, json: PRODUCTS });

      const usage = await readUsage(target);
      expect(usage.requests).toBe(answered.length + stillHeld.length + 1);
      expect(usage.rejected).toBe(0);
      expect(usage.lastUsedAt).toBeInstanceOf(Date);
      expect(Math.abs(usage.lastUsedAt!.getTime() - Date.now())).toBeLessThan(120_000);
    } finally {
      server.kill();
    }
  }, 60_000);
});

if (databaseKinds.includes("postgres")) {
  describe("postgres: two server processes on one database", () => {
    it("400 concurrent requests across both, flushing every second, both stopped at once: key_usage sums to exactly 400", async () => {
      const target = await freshTarget("postgres");
      const ports = [await freePort(), await freePort()];
      const servers = ports.map((port) => startMain(target, port, { KEYSCOPE_USAGE_FLUSH_SECONDS: "1" }));
      try {
        const bases = ports.map((port) => `http://127.0.0.1:${port}`);
        await Promise.all(servers.map((server, i) => waitUntilHealthy(server, bases[i]!)));
        const ask = (i: number) => postGraphQL(`${bases[i % 2]}/graphql`, { query: QUERY }, [apiKey(target.secret)]);

        const first = await inParallel(200, 50, ask);
        // Both have flushed at least once: the rest of the counts are added to existing rows.
        await waitFor("a first flush from both", async () => (await readUsage(target)).requests > 0, 10_000);
        const second = await inParallel(200, 50, ask);
        for (const res of [...first, ...second]) expect({ status: res.status, json: res.json }).toEqual({ status: 200, json: PRODUCTS });

        for (const server of servers) server.child.kill("SIGTERM");
        const exits = await Promise.all(servers.map((server) => server.exited(10_000)));
        for (const exit of exits) {
          expect(exit.code, exit.stderr).toBe(0);
          expect(exit.stdout).not.toMatch(/flush failed/);
        }
        const usage = await readUsage(target);
        expect(usage).toEqual({ requests: 400, rejected: 0, lastUsedAt: expect.any(Date) });
      } finally {
        for (const server of servers) server.kill();
      }
    }, 60_000);
  });
}

describe.each(databaseKinds)("%s: in-process flushes racing the requests and each other", (kind) => {
  // PGlite cannot be shared by two processes or two servers, so one instance there.
  const instances = kind === "postgres" ? 2 : 1;
  const total = kind === "postgres" ? 400 : 200;

  it(`${total} requests over ${instances} instance(s) with flushes fired together all along: no count lost or doubled`, async () => {
    const target = await freshTarget(kind);
    const apps: KeyscopeServer[] = [];
    try {
      for (let i = 0; i < instances; i++) {
        apps.push(
          await createKeyscopeServer({
            ...target.options,
            typeDefs: exampleTypeDefs,
            resolvers: exampleResolvers,
            logger: createLogger("silent"),
            usageFlushSeconds: 1,
            limits: { rateLimit: { limit: 1_000_000, windowSeconds: 60 } },
          }),
        );
      }
      const urls = await Promise.all(apps.map(async (app) => (await app.listen({ port: 0, host: "127.0.0.1" })).url));

      let loading = true;
      let rounds = 0;
      // Every instance flushes twice at the same moment, over and over, while the load runs.
      const flusher = (async () => {
        while (loading && rounds < 5_000) {
          rounds++;
          await Promise.all(apps.flatMap((app) => [app.usage.flush(), app.usage.flush()]));
          await new Promise((resolve) => setTimeout(resolve, 5)); // pacing: let requests in between rounds

        }
      })();
      let responses: HttpResponse[];
      try {
        responses = await inParallel(total, 50, (i) => postGraphQL(urls[i % instances]!, { query: QUERY }, [apiKey(target.secret)]));
      } finally {
        loading = false;
        await flusher;
      }
      expect(rounds).toBeGreaterThan(1);
      for (const res of responses) expect({ status: res.status, json: res.json }).toEqual({ status: 200, json: PRODUCTS });

      await Promise.all(apps.splice(0).map((app) => app.close())); // the last counts, at the same moment
      expect(await readUsage(target)).toEqual({ requests: total, rejected: 0, lastUsedAt: expect.any(Date) });
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
  }, 60_000);
});

function stopCases(): [DatabaseKind, NodeJS.Signals][] {
  const cases: [DatabaseKind, NodeJS.Signals][] = [["pglite", "SIGTERM"], ["pglite", "SIGINT"]];
  if (databaseKinds.includes("postgres")) cases.push(["postgres", "SIGTERM"]);
  return cases;
}

/**
 * A bootstrapped database that afterEach disposes of: a copy of the template directory, or a new
 * PostgreSQL database bootstrapped by the CLI.
 */
async function freshTarget(kind: DatabaseKind): Promise<Target> {
  if (kind === "pglite") {
    const dir = await mkdtemp(join(tmpdir(), "keyscope-stop-"));
    disposals.push(() => rm(dir, { recursive: true, force: true }));
    await cp(template.dir, dir, { recursive: true });
    return { kind, env: { KEYSCOPE_DATA_DIR: dir }, options: { dataDir: dir }, secret: template.secret, keyId: template.keyId };
  }
  const database = await freshDatabase(kind);
  disposals.push(() => database.drop());
  const url = database.options.databaseUrl!;
  const env = { DATABASE_URL: url };
  return { kind, env, options: { databaseUrl: url }, ...(await bootstrapWithCli(env)) };
}

/** `keyscope bootstrap` in this process: the command is bootstrap-cli's to test as a process. */
async function bootstrapWithCli(env: Record<string, string>): Promise<{ secret: string; keyId: string }> {
  const run = await cli(["bootstrap", "--email", "admin@example.com", "--json"], env);
  const { secret, keyId } = JSON.parse(expectSucceeded(run)) as { secret: string; keyId: string };
  return { secret, keyId };
}

function startMain(target: Target, port: number, extra: Record<string, string>): RunningNode {
  return spawnNode(
    MAIN,
    minimalEnv({
      ...target.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      KEYSCOPE_RATE_LIMIT_REQUESTS: "1000000",
      ...extra,
    }),
  );
}

/** The key's summed usage rows and lastUsedAt, read straight from the database. */
async function readUsage(target: Target): Promise<{ requests: number; rejected: number; lastUsedAt: Date | null }> {
  const database = await openDatabase(target.options);
  try {
    const [sums] = await database.db
      .select({
        requests: sql<number>`coalesce(sum(${keyUsage.requests}), 0)::int`,
        rejected: sql<number>`coalesce(sum(${keyUsage.rejected}), 0)::int`,
      })
      .from(keyUsage)
      .where(eq(keyUsage.keyId, target.keyId));
    const [key] = await database.db.select({ lastUsedAt: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, target.keyId));
    return { requests: Number(sums!.requests), rejected: Number(sums!.rejected), lastUsedAt: key!.lastUsedAt };
  } finally {
    await database.close();
  }
}

/** Runs `total` calls of `work(i)`, at most `concurrency` at a time; results in call order. */
async function inParallel<T>(total: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      results[i] = await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return results;
}

/** Polls /healthz until the child answers (it has migrated and listens); fails if it exits. */
async function waitUntilHealthy(server: RunningNode, base: string): Promise<void> {
  await waitFor("the server to answer /healthz", async () => {
    if (server.child.exitCode !== null) throw new Error(`the server exited early (${server.child.exitCode}): ${server.stderr()}`);
    return send(`${base}/healthz`).then((res) => res.status === 200, () => false);
  }, 45_000, 100);
}

/** Resolves once the port refuses connections: the server has stopped accepting and is draining. */
async function waitUntilRefused(port: number): Promise<void> {
  await waitFor(
    "the port to refuse connections",
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve(false);
        });
        socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
      }),
    10_000,
    100,
  );
}

/**
 * A GraphQL POST on its own connection with `Expect: 100-continue`: `accepted` resolves when the
 * server has read the headers (a request in progress, which a drain must finish); the body is
 * sent only on `release()`.
 */
function holdRequest(url: string, secret: string, query: string): { accepted: Promise<void>; release(): Promise<HttpResponse> } {
  const { req, body, response } = openRequest(url, secret, query, { expect: "100-continue" });
  const accepted = new Promise<void>((resolve, reject) => {
    req.once("continue", () => resolve());
    req.once("error", reject);
  });
  accepted.catch(() => {});
  return {
    accepted,
    release: () => {
      req.end(body);
      return response;
    },
  };
}

/** A GraphQL POST on a new connection (not a kept-alive one the server may close as idle). */
function postOnNewConnection(url: string, secret: string, query: string): Promise<HttpResponse> {
  const { req, body, response } = openRequest(url, secret, query, {});
  req.end(body);
  return response;
}

function openRequest(url: string, secret: string, query: string, headers: Record<string, string>) {
  const body = JSON.stringify({ query });
  const req = httpRequest(url, {
    method: "POST",
    agent: false,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-api-key": secret, ...headers },
  });
  const response = new Promise<HttpResponse>((resolve, reject) => {
    req.once("error", reject);
    req.once("response", (res) => readResponse(res).then(resolve, reject));
  });
  response.catch(() => {});
  return { req, body, response };
}
