// SPEC §8: `npx keyscope bootstrap` on each database: in this process through runCli, and as a
// real process (bin/keyscope.js) where the process is the point: a bootstrap on each database,
// a failure's exit code, the data directory held by another process (a server: through its
// socket; anything else: refused).
import { cpSync, existsSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checksum } from "../../src/keys/key-format.ts";
import { deadPid, killAll, minimalEnv, spawnNode } from "../helpers/child-process.ts";
import { cli, cliTarget, expectRefused, expectSucceeded, keyscope, migratedTemplate, withServer, type CliRun, type CliTarget } from "../helpers/cli.ts";
import { databaseKinds, type DatabaseKind } from "../helpers/databases.ts";
import { postGraphQL } from "../helpers/http.ts";

const SECRET = /^ks_[0-9A-Za-z]{38}$/;
const ANY_SECRET = /[a-z][a-z0-9]{0,15}_[0-9A-Za-z]{38}/;
const ME = "{ me { user { id email role } apiKey { id scopes clientType } } }";

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

/** A database nobody has bootstrapped, that afterEach disposes of. */
async function freshTarget(kind: DatabaseKind, from: "template" | "empty" = "template"): Promise<CliTarget> {
  const target = await makeTarget(kind, from);
  disposals.push(() => target.dispose());
  return target;
}

/** A PGlite data directory that afterEach removes. */
async function freshDataDir(from: "template" | "empty" = "template"): Promise<string> {
  return (await freshTarget("pglite", from)).env.KEYSCOPE_DATA_DIR!;
}

function makeTarget(kind: DatabaseKind, from: "template" | "empty" = "template"): Promise<CliTarget> {
  // cpSync: several times faster than fs/promises cp.
  return cliTarget(kind, from === "template" ? (dir) => cpSync(template, dir, { recursive: true }) : undefined);
}

function parseJsonOutput(exit: CliRun): { secret: string; keyId: string; userId: string; email: string } {
  const lines = exit.stdout.split("\n");
  expect(lines, "exactly one line, newline-terminated").toHaveLength(2);
  expect(lines[1]).toBe("");
  const output = JSON.parse(lines[0]!);
  expect(Object.keys(output).sort()).toEqual(["email", "keyId", "secret", "userId"]);
  return output;
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
  it("as a real process: --json prints one JSON line whose secret is an admin key on the server's database", async () => {
    const target = await freshTarget(kind);
    const exit = await keyscope(["bootstrap", "--email", "a@example.com", "--json"], target.env);
    expectSucceeded(exit);
    const output = parseJsonOutput(exit);
    expect(output.secret).toMatch(SECRET);
    expectWellFormedSecret(output.secret, "ks");
    expect(output.email).toBe("a@example.com");
    if (kind === "pglite") expect(await readdir(target.env.KEYSCOPE_DATA_DIR!), "the process released its lock").not.toContain("keyscope.lock");

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

  // From nothing: on PGlite an empty directory, created and migrated on this first run.
  it("KEYSCOPE_KEY_PREFIX=acme issues an acme_ key that a server with that prefix accepts", async () => {
    const target = await freshTarget(kind, "empty");
    const exit = await cli(["bootstrap", "--email", "acme@example.com", "--json"], { ...target.env, KEYSCOPE_KEY_PREFIX: "acme" });
    expectSucceeded(exit);
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
    let target: CliTarget;
    beforeAll(async () => {
      target = await makeTarget(kind); // outlives single tests: disposed of in afterAll
    });
    afterAll(() => target?.dispose());

    it("an invalid email: exit 1, a message about the email, nothing printed on stdout", async () => {
      const exit = await cli(["bootstrap", "--email", "not-an-email", "--json"], target.env);
      expectRefused(exit, /email address is not valid/i);
    });

    it("after that refusal no admin exists: a good bootstrap succeeds and shows the secret once, for humans", async () => {
      const exit = await cli(["bootstrap", "--email", "first@example.com"], target.env);
      expectSucceeded(exit);
      const secrets = exit.stdout.match(new RegExp(ANY_SECRET, "g")) ?? [];
      expect(secrets).toHaveLength(1);
      expect(secrets[0]).toMatch(SECRET);
      expect(exit.stdout).toContain("first@example.com");
      expect(exit.stdout).toMatch(/only time the key is shown/i);
      expect(() => JSON.parse(exit.stdout)).toThrow();
    });

    it("a second bootstrap refuses with exit 1, says an admin exists, and prints no secret", async () => {
      const exit = await cli(["bootstrap", "--email", "second@example.com", "--json"], target.env);
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
    expectRefused(await cli(args, { KEYSCOPE_DATA_DIR: dataDir, ...env }), message);
    expect(await readdir(dataDir), "the data directory was not even opened").toEqual([]);
  });

  it("as a real process: a variable read from its environment, refused with exit 1 and nothing created", async () => {
    const dataDir = await freshDataDir("empty");
    const exit = await keyscope(["bootstrap", "--email", "a@example.com"], { KEYSCOPE_DATA_DIR: dataDir, KEYSCOPE_KEY_PREFIX: "Bad" });
    expectRefused(exit, /^keyscope: Invalid configuration: KEYSCOPE_KEY_PREFIX must match/);
    expect(exit.signal).toBeNull();
    expect(await readdir(dataDir), "the data directory was not even opened").toEqual([]);
  });
});

describe("keyscope bootstrap and the embedded data directory lock", () => {
  it("while a server holds the data directory: bootstrap goes through its socket, and the key works on that server at once", async () => {
    const dir = await freshDataDir();
    await withServer({ dataDir: dir }, async (url) => {
      expect(JSON.parse(await readFile(join(dir, "keyscope.lock"), "utf8"))).toEqual({ pid: process.pid, holder: "server" });
      // As a real process: the server holding the lock is another process (this one).
      const output = parseJsonOutput(await keyscope(["bootstrap", "--email", "a@example.com", "--json"], { KEYSCOPE_DATA_DIR: dir }));
      expectWellFormedSecret(output.secret, "ks");
      const res = await postGraphQL(url, { query: ME }, [["x-api-key", output.secret]]);
      expect(res.json.data.me.user).toEqual({ id: output.userId, email: "a@example.com", role: "ADMIN" });
      // The server's lock is untouched by the command.
      expect(JSON.parse(await readFile(join(dir, "keyscope.lock"), "utf8"))).toEqual({ pid: process.pid, holder: "server" });
      expectRefused(await cli(["bootstrap", "--email", "b@example.com"], { KEYSCOPE_DATA_DIR: dir }), /^keyscope: An admin already exists/);
    });
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
    expect(refused.stderr).toMatch(/Stop it first, or point DATABASE_URL at PostgreSQL/);
    holder.kill();
  });

  it("a lock left by a process that is gone does not block, and is cleared", async () => {
    const dir = await freshDataDir();
    await writeFile(join(dir, "keyscope.lock"), JSON.stringify({ pid: deadPid(), holder: "server" }));
    const exit = await cli(["bootstrap", "--email", "a@example.com", "--json"], { KEYSCOPE_DATA_DIR: dir });
    expectSucceeded(exit);
    expect(parseJsonOutput(exit).secret).toMatch(SECRET);
    expect(await readdir(dir)).not.toContain("keyscope.lock");
  });
});
