// SPEC §8: `npx keyscope bootstrap`, run as a real process (bin/keyscope.js) on each database.
import { cpSync, existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checksum } from "../../src/keys/key-format.ts";
import { createKeyscopeServer, type KeyscopeServerOptions } from "../../src/keyscope-server.ts";
import { createLogger } from "../../src/logger.ts";
import { deadPid, killAll, minimalEnv, runNode, spawnNode, type Exit } from "../helpers/child-process.ts";
import { migratedTemplate } from "../helpers/cli.ts";
import { databaseKinds, freshDatabase, type DatabaseKind } from "../helpers/databases.ts";
import { postGraphQL } from "../helpers/http.ts";

const SECRET = /^ks_[0-9A-Za-z]{38}$/;
const ANY_SECRET = /[a-z][a-z0-9]{0,15}_[0-9A-Za-z]{38}/;
const ME = "{ me { user { id email role } apiKey { id scopes clientType } } }";

/** A database nobody has bootstrapped, as the CLI (env) and the server (options) name it. */
interface Target {
  env: Record<string, string>;
  options: Pick<KeyscopeServerOptions, "databaseUrl" | "dataDir">;
  dispose(): Promise<void>;
}

const disposals: (() => Promise<void>)[] = [];

/**
 * A migrated, never bootstrapped PGlite directory to copy: creating one costs seconds (initdb),
 * copying it does not. One test starts from an empty directory to cover the first run.
 */
let template: string;

beforeAll(async () => {
  template = await migratedTemplate("keyscope-cli-template-");
});

afterAll(() => rm(template, { recursive: true, force: true }));

/** A target that afterEach disposes of. */
async function freshTarget(kind: DatabaseKind, from: "template" | "empty" = "template"): Promise<Target> {
  const target = await makeTarget(kind, from);
  disposals.push(() => target.dispose());
  return target;
}

/** A PGlite data directory that afterEach removes. */
async function freshDataDir(from: "template" | "empty" = "template"): Promise<string> {
  return (await freshTarget("pglite", from)).env.KEYSCOPE_DATA_DIR!;
}

async function makeTarget(kind: DatabaseKind, from: "template" | "empty" = "template"): Promise<Target> {
  if (kind === "pglite") {
    const dir = await mkdtemp(join(tmpdir(), "keyscope-cli-"));
    if (from === "template") cpSync(template, dir, { recursive: true }); // several times faster than fs/promises cp
    return { env: { KEYSCOPE_DATA_DIR: dir }, options: { dataDir: dir }, dispose: () => rm(dir, { recursive: true, force: true }) };
  }
  const database = await freshDatabase(kind);
  const url = database.options.databaseUrl!;
  return { env: { DATABASE_URL: url }, options: { databaseUrl: url }, dispose: () => database.drop() };
}

function keyscope(args: string[], env: Record<string, string>): Promise<Exit> {
  return runNode(["bin/keyscope.js", ...args], minimalEnv(env));
}

/** Starts a server on the target's database, runs `work` against its URL, and always closes it. */
async function withServer<T>(options: KeyscopeServerOptions, work: (url: string) => Promise<T>): Promise<T> {
  const app = await createKeyscopeServer({ ...options, logger: createLogger("silent") });
  try {
    const { url } = await app.listen({ port: 0, host: "127.0.0.1" });
    return await work(url);
  } finally {
    await app.close();
  }
}

function parseJsonOutput(exit: Exit): { secret: string; keyId: string; userId: string; email: string } {
  const lines = exit.stdout.split("\n");
  expect(lines, "exactly one line, newline-terminated").toHaveLength(2);
  expect(lines[1]).toBe("");
  const output = JSON.parse(lines[0]!);
  expect(Object.keys(output).sort()).toEqual(["email", "keyId", "secret", "userId"]);
  return output;
}

/** Exit 1, the message on stderr, nothing on stdout, no secret anywhere, no stack trace. */
function expectRefused(exit: Exit, message: RegExp) {
  expect(exit.code).toBe(1);
  expect(exit.stdout).toBe("");
  expect(exit.stderr).toMatch(message);
  expect(exit.stderr).not.toMatch(ANY_SECRET);
  expect(exit.stderr, "an expected refusal, not a crash").not.toMatch(/\n\s+at /);
}

function expectWellFormedSecret(secret: string, prefix: string) {
  expect(secret.startsWith(`${prefix}_`)).toBe(true);
  expect(secret).toHaveLength(prefix.length + 1 + 38);
  expect(secret.slice(-6)).toBe(checksum(secret.slice(0, -6)));
}

afterEach(async () => {
  killAll();
  await Promise.all(disposals.splice(0).map((dispose) => dispose()));
});

describe.each(databaseKinds)("keyscope bootstrap on %s", (kind) => {
  it("--json prints one JSON line whose secret is an admin key on the server's database", async () => {
    const target = await freshTarget(kind, "empty");
    const exit = await keyscope(["bootstrap", "--email", "a@example.com", "--json"], target.env);
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    const output = parseJsonOutput(exit);
    expect(output.secret).toMatch(SECRET);
    expectWellFormedSecret(output.secret, "ks");
    expect(output.email).toBe("a@example.com");

    const res = await withServer(target.options, (url) => postGraphQL(url, { query: ME }, [["x-api-key", output.secret]]));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      data: {
        me: {
          user: { id: output.userId, email: "a@example.com", role: "ADMIN" },
          apiKey: { id: output.keyId, scopes: ["keys:admin", "keys:self"], clientType: "admin" },
        },
      },
    });
  });

  it("KEYSCOPE_KEY_PREFIX=acme issues an acme_ key that a server with that prefix accepts", async () => {
    const target = await freshTarget(kind);
    const exit = await keyscope(["bootstrap", "--email", "acme@example.com", "--json"], { ...target.env, KEYSCOPE_KEY_PREFIX: "acme" });
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    const { secret } = parseJsonOutput(exit);
    expect(secret).toMatch(/^acme_[0-9A-Za-z]{38}$/);
    expectWellFormedSecret(secret, "acme");

    const res = await withServer({ ...target.options, keyPrefix: "acme" }, (url) =>
      postGraphQL(url, { query: "{ me { user { email role } } }" }, [["x-api-key", secret]]),
    );
    expect(res.json).toEqual({ data: { me: { user: { email: "acme@example.com", role: "ADMIN" } } } });
  });

  // One database through a refused bootstrap, a good one and a second one, in this order.
  describe("one database, from a refusal to a second bootstrap", () => {
    let target: Target;
    beforeAll(async () => {
      target = await makeTarget(kind); // outlives single tests: disposed of in afterAll
    });
    afterAll(() => target?.dispose());

    it("an invalid email: exit 1, a message about the email, nothing printed on stdout", async () => {
      const exit = await keyscope(["bootstrap", "--email", "not-an-email", "--json"], target.env);
      expectRefused(exit, /email address is not valid/i);
    });

    it("after that refusal no admin exists: a good bootstrap succeeds and shows the secret once, for humans", async () => {
      const exit = await keyscope(["bootstrap", "--email", "first@example.com"], target.env);
      expect(exit.stderr).toBe("");
      expect(exit.code).toBe(0);
      const secrets = exit.stdout.match(new RegExp(ANY_SECRET, "g")) ?? [];
      expect(secrets).toHaveLength(1);
      expect(secrets[0]).toMatch(SECRET);
      expect(exit.stdout).toContain("first@example.com");
      expect(exit.stdout).toMatch(/only time the key is shown/i);
      expect(() => JSON.parse(exit.stdout)).toThrow();
    });

    it("a second bootstrap refuses with exit 1, says an admin exists, and prints no secret", async () => {
      const exit = await keyscope(["bootstrap", "--email", "second@example.com", "--json"], target.env);
      expectRefused(exit, /^keyscope: An admin already exists/);
    });
  });
});

// These fail before any database is chosen, so once is enough for every kind.
describe("keyscope with bad arguments or configuration", () => {
  it.each<[string, string[], Record<string, string>, RegExp]>([
    ["no command", [], {}, /Usage:[\s\S]*keyscope bootstrap --email/],
    ["an unknown command", ["bootstrp", "--email", "a@example.com"], {}, /unknown command "bootstrp/],
    ["no --email", ["bootstrap", "--json"], {}, /--email/],
    ["an unknown flag", ["bootstrap", "--email", "a@example.com", "--force"], {}, /--force/],
    ["a bad environment variable", ["bootstrap", "--email", "a@example.com"], { KEYSCOPE_KEY_PREFIX: "Bad" }, /KEYSCOPE_KEY_PREFIX must match/],
  ])("%s: exit 1, a message naming the problem, nothing created", async (_, args, env, message) => {
    const dataDir = await freshDataDir("empty");
    expectRefused(await keyscope(args, { KEYSCOPE_DATA_DIR: dataDir, ...env }), message);
    expect(await readdir(dataDir), "the data directory was not even opened").toEqual([]);
  });
});

describe("keyscope bootstrap and the embedded data directory lock", () => {
  it("while a server holds the data directory: bootstrap goes through its socket, and the key works on that server at once", async () => {
    const dir = await freshDataDir();
    const app = await createKeyscopeServer({ dataDir: dir, logger: createLogger("silent") });
    try {
      const { url } = await app.listen({ port: 0, host: "127.0.0.1" });
      expect(JSON.parse(await readFile(join(dir, "keyscope.lock"), "utf8"))).toEqual({ pid: process.pid, holder: "server" });
      const exit = await keyscope(["bootstrap", "--email", "a@example.com", "--json"], { KEYSCOPE_DATA_DIR: dir });
      expect(exit.stderr).toBe("");
      expect(exit.code).toBe(0);
      const output = parseJsonOutput(exit);
      expectWellFormedSecret(output.secret, "ks");
      const res = await postGraphQL(url, { query: ME }, [["x-api-key", output.secret]]);
      expect(res.json.data.me.user).toEqual({ id: output.userId, email: "a@example.com", role: "ADMIN" });
      // The server's lock is untouched by the command.
      expect(JSON.parse(await readFile(join(dir, "keyscope.lock"), "utf8"))).toEqual({ pid: process.pid, holder: "server" });

      expectRefused(await keyscope(["bootstrap", "--email", "b@example.com"], { KEYSCOPE_DATA_DIR: dir }), /^keyscope: An admin already exists/);
    } finally {
      await app.close();
    }
    expect(existsSync(join(dir, "keyscope.lock"))).toBe(false);
    expect(existsSync(join(dir, "keyscope.sock")), "the server removes its socket when it stops").toBe(false);
  });

  it("refuses while another live process without a socket holds the data directory, naming it", async () => {
    const dir = await freshDataDir();
    const holder = spawnNode(["-e", "setInterval(() => {}, 1000)"], minimalEnv());
    await writeFile(join(dir, "keyscope.lock"), JSON.stringify({ pid: holder.child.pid, holder: "command line" }));
    const refused = await keyscope(["bootstrap", "--email", "a@example.com", "--json"], { KEYSCOPE_DATA_DIR: dir });
    expectRefused(refused, /The data directory .+ is in use/);
    expect(refused.stderr).toContain(`The data directory ${dir} is in use by the Keyscope command line (pid ${holder.child.pid})`);
    holder.kill();
  });

  it("a lock left by a process that is gone does not block, and is cleared", async () => {
    const dir = await freshDataDir();
    await writeFile(join(dir, "keyscope.lock"), JSON.stringify({ pid: deadPid(), holder: "server" }));
    const exit = await keyscope(["bootstrap", "--email", "a@example.com", "--json"], { KEYSCOPE_DATA_DIR: dir });
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    expect(parseJsonOutput(exit).secret).toMatch(SECRET);
    expect(await readdir(dir)).not.toContain("keyscope.lock");
  });
});
