// Issue 13 §2: a first run tells you what to do. `npm start` on a new database logs one line saying
// how to create the first admin, /readyz stays 200, bootstrap works while the server runs, and the
// key works at once: no restart. Real processes throughout.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort, killAll, minimalEnv, runNode, spawnNode } from "../helpers/child-process.ts";
import { postGraphQL, send } from "../helpers/http.ts";

const MAIN = ["--import", "tsx", "src/main.ts"];
const HINT = /No admin yet\. Create the first one .*: npx keyscope bootstrap --email you@example\.com$/;

const dirs: string[] = [];
afterEach(() => killAll());
afterAll(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("npm start on a new embedded database", () => {
  it("logs how to create the first admin, stays ready, and the bootstrapped key works without a restart", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyscope-first-run-"));
    dirs.push(dir);
    const env = { KEYSCOPE_DATA_DIR: dir };
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const start = () => spawnNode(MAIN, minimalEnv({ ...env, PORT: String(port), HOST: "127.0.0.1" }));

    const server = start();
    const hint = JSON.parse(await server.waitForLine((line) => HINT.test(JSON.parse(line).msg ?? ""), 60_000));
    expect(hint).toMatchObject({ level: 30, service: "keyscope" });
    expect(server.stdout().split("\n").filter((line) => /No admin yet/.test(line)), "one line").toHaveLength(1);
    expect((await send(`${base}/readyz`)).status).toBe(200);

    const boot = await runNode(["bin/keyscope.js", "bootstrap", "--email", "you@example.com", "--json"], minimalEnv(env));
    expect(boot.stderr).toBe("");
    expect(boot.code).toBe(0);
    const { secret } = JSON.parse(boot.stdout);
    const res = await postGraphQL(`${base}/graphql`, { query: "{ me { user { email role } } }" }, [["x-api-key", secret]]);
    expect(res.json).toEqual({ data: { me: { user: { email: "you@example.com", role: "ADMIN" } } } });
    expect((await send(`${base}/readyz`)).status).toBe(200);
    server.child.kill("SIGTERM");
    expect((await server.exited(15_000)).code).toBe(0);

    // Once an admin exists, a start says nothing of the kind.
    const again = start();
    await again.waitForLine((line) => /listening/i.test(line), 60_000);
    expect((await send(`${base}/readyz`)).status).toBe(200);
    again.child.kill("SIGTERM");
    const exit = await again.exited(15_000);
    expect(exit.code).toBe(0);
    expect(exit.stdout).not.toMatch(/No admin yet/);
  }, 150_000);
});
