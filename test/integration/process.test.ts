// SPEC §8: `npm start` (src/main.ts) as a real process: configuration checked at start, health
// endpoints, JSON logs, and a clean stop on SIGTERM that releases the embedded data directory.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { freePort, killAll, minimalEnv, runNode, spawnNode, type RunningNode } from "../helpers/child-process.ts";
import { postGraphQL, send } from "../helpers/http.ts";

const MAIN = ["--import", "tsx", "src/main.ts"];

const tempDirs: string[] = [];

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "keyscope-main-"));
  tempDirs.push(dir);
  return dir;
}

afterAll(async () => {
  killAll();
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("a bad environment variable stops the server at start", () => {
  afterEach(() => killAll());

  const BAD: [string, string, string][] = [
    ["PORT", "abc", "PORT must be a whole number"],
    ["DATABASE_URL", "mysql://root:hunter2@db.example/keyscope", "DATABASE_URL must be a postgres:// or postgresql:// URL"],
    ["KEYSCOPE_HASH_SECRET", "short-s3cret-value", "KEYSCOPE_HASH_SECRET must be at least 32 characters"],
    ["LOG_LEVEL", "loud", "LOG_LEVEL must be one of"],
    ["KEYSCOPE_KEY_HEADERS", ",", "KEYSCOPE_KEY_HEADERS must be a comma-separated list of header names"],
  ];

  // In-process: what main.ts reads first, and why it prints the message alone (a ConfigError).
  it.each(BAD)("%s=%s: a ConfigError naming the variable and not echoing its value", (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ KEYSCOPE_DATA_DIR: "./never-opened", PORT: "0", [name]: value });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message: said } = error as ConfigError;
    expect(said).toMatch(/^Invalid configuration: /);
    expect(said).toContain(message);
    if (value.length > 1) expect(said).not.toContain(value);
    expect(said).not.toContain("hunter2");
  });

  // The process itself, once for all: every problem named at once on stderr, exit 1, nothing opened.
  it("as a real process: exit 1, every problem named at once, no value echoed, no stack, nothing opened or locked", async () => {
    const dataDir = await tempDataDir();
    const bad = { ...Object.fromEntries(BAD.map(([name, value]) => [name, value])), PORT: "99999" };
    const exit = await runNode(MAIN, minimalEnv({ KEYSCOPE_DATA_DIR: dataDir, ...bad }), 20_000);
    expect(exit.code, `signal ${exit.signal}; stderr: ${exit.stderr}`).toBe(1);
    expect(exit.signal).toBeNull();
    expect(exit.stderr).toMatch(/^keyscope: Invalid configuration: /);
    expect(exit.stderr).toContain("PORT must be at most 65535");
    for (const [name, value, message] of BAD) {
      if (name === "PORT") continue; // 99999 here: the range, not the format
      expect(exit.stderr).toContain(message);
      if (value.length > 1) expect(exit.stderr).not.toContain(value);
    }
    expect(exit.stderr).not.toContain("99999");
    expect(exit.stderr).not.toContain("hunter2");
    expect(exit.stderr, "an expected refusal, not a crash with a stack").not.toMatch(/\n\s+at /);
    expect(exit.stdout).toBe("");
    expect(await readdir(dataDir), "nothing was opened or locked").toEqual([]);
  });
});

describe("a good start on an embedded data directory", () => {
  let dataDir: string;
  let port: number;
  let server: RunningNode;
  let base: string;

  beforeAll(async () => {
    dataDir = await tempDataDir();
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // NODE_ENV is free text: an unusual value is no configuration error.
    server = spawnNode(MAIN, minimalEnv({ KEYSCOPE_DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", NODE_ENV: "staging" }));
    await server.waitForLine((line) => /listening/i.test(line), 45_000);
  }, 60_000);

  // Not afterEach: the tests below share this one server, in order.
  afterAll(() => server?.kill());

  it("logs a JSON line saying where it listens", () => {
    const line = server.stdout().split("\n").find((l) => /listening/i.test(l))!;
    const entry = JSON.parse(line);
    expect(entry).toMatchObject({ level: 30, service: "keyscope", url: `http://127.0.0.1:${port}/graphql`, database: "pglite" });
    expect(entry.msg).toContain(`http://127.0.0.1:${port}/graphql`);
  });

  it("holds the data directory with its own pid", async () => {
    expect(JSON.parse(await readFile(join(dataDir, "keyscope.lock"), "utf8"))).toEqual({ pid: server.child.pid, holder: "server" });
  });

  it("/healthz answers 200 {status: ok} and /readyz 200", async () => {
    const health = await send(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers["content-type"]).toMatch(/^application\/json/);
    expect(health.json).toEqual({ status: "ok" });
    const ready = await send(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: "ready" });
  });

  it("answers a public GraphQL query", async () => {
    const res = await postGraphQL(`${base}/graphql`, { query: "{ products { id name } }" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      data: { products: [{ id: "p1", name: "Oak desk" }, { id: "p2", name: "Steel shelf" }, { id: "p3", name: "Birch stool" }] },
    });
  });

  it("a second server on the same data directory refuses to start and names the holder", async () => {
    const exit = await runNode(MAIN, minimalEnv({ KEYSCOPE_DATA_DIR: dataDir, PORT: String(await freePort()) }), 20_000);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain(`The data directory ${dataDir} is in use by the Keyscope server (pid ${server.child.pid})`);
    expect(exit.stderr).not.toMatch(/\n\s+at /);
    // The running server is untouched.
    expect((await send(`${base}/readyz`)).status).toBe(200);
  });

  it("SIGTERM: exit 0 (killed if not within 10 s), the lock released, every stdout line JSON", async () => {
    server.child.kill("SIGTERM");
    const exit = await server.exited(10_000);
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(0);
    expect(existsSync(join(dataDir, "keyscope.lock"))).toBe(false);
    expect(exit.stderr).toBe("");

    const lines = exit.stdout.split("\n").filter((l) => l !== "");
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    const entries = lines.map((l) => JSON.parse(l));
    expect(entries.some((e) => e.msg === "request" && e.path === "/graphql" && e.status === 200)).toBe(true);
    expect(entries.some((e) => e.signal === "SIGTERM")).toBe(true);
    await expect(send(`${base}/healthz`)).rejects.toThrow();
  });
});
