// The operator CLI prints what anyone with a key may have named: every value is escaped, so a
// name cannot forge lines, recolour or clear the terminal, write the clipboard (OSC 52) or reorder
// what is shown. The services refuse such names today; these rows stand for ones written before
// the checks existed, or by hand in SQL.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { printable, printableJson } from "../../src/cli/printable.ts";
import { runCli } from "../../src/cli/main.ts";
import { createCore } from "../../src/core.ts";
import { apiKeys, users } from "../../src/db/schema/index.ts";
import { openMigratedDatabase } from "../../src/db/open-migrated.ts";
import { createLogger } from "../../src/logger.ts";
import { forbiddenChar } from "../helpers/bad-text.ts";
import { databaseKinds, freshDatabase, type DatabaseKind } from "../helpers/databases.ts";

const HOSTILE_NAMES = [
  "line one\n5b0c2f1e-9d3a-4c1b-8e7f-0a1b2c3d4e5f  ACTIVE    ks_forged…  admin  [keys:admin]  forged",
  "\u001b[2J\u001b[31mcleared and red\u001b[0m",
  "\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\u0007clipboard",
  "\u009b31mC1 CSI\u009d52;c;AAAA\u009c",
  "\u202egnp.exe",
  "carriage\rreturn",
  "back\\slash",
];

/** What must never reach a terminal raw: C0 (but the line feeds we print), DEL, C1, bidi, format, separators. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b\ufeff]/u;

async function cli(argv: string[], env: Record<string, string>) {
  const collected = { stdout: "", stderr: "" };
  const sink = (name: keyof typeof collected) => new Writable({ write: (chunk, _e, done) => void ((collected[name] += String(chunk)), done()) });
  const code = await runCli(argv, env, sink("stdout"), sink("stderr"));
  return { code, ...collected };
}

describe.each(databaseKinds)("the operator CLI's output on %s", (kind: DatabaseKind) => {
  let env: Record<string, string>;
  let dispose: () => Promise<void>;
  const keyIds: string[] = [];

  beforeAll(async () => {
    let options: { dataDir?: string; databaseUrl?: string };
    if (kind === "pglite") {
      const dir = await mkdtemp(join(tmpdir(), "keyscope-escaping-"));
      options = { dataDir: dir };
      env = { KEYSCOPE_DATA_DIR: dir };
      dispose = () => rm(dir, { recursive: true, force: true });
    } else {
      const database = await freshDatabase(kind);
      options = database.options;
      env = { DATABASE_URL: database.options.databaseUrl! };
      dispose = () => database.drop();
    }
    const database = await openMigratedDatabase(options, "test");
    const core = await createCore({ database, logger: createLogger("silent"), serving: false });
    try {
      const user = await core.users.createUser(CLI_PRINCIPAL, { email: "hostile@example.com", clientTypes: ["mobile"] });
      for (const name of HOSTILE_NAMES) {
        const { apiKey } = await core.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "placeholder", clientType: "mobile" });
        await core.db.update(apiKeys).set({ name, scopes: ["orders:read", "\u001b[8mhidden"] }).where(eq(apiKeys.id, apiKey.id));
        keyIds.push(apiKey.id);
      }
      const other = await core.users.createUser(CLI_PRINCIPAL, { email: "renamed@example.com" });
      await core.db.update(users).set({ email: "renamed@example.com\u001b]52;c;AAAA\u0007" }).where(eq(users.id, other.id));
    } finally {
      await core.close();
      await database.close();
    }
  });
  afterAll(() => dispose?.());

  it("keys list: one line a key, every name escaped, none of it raw", async () => {
    const run = await cli(["keys", "list", "--email", "hostile@example.com"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n").filter(Boolean);
    expect(lines).toHaveLength(HOSTILE_NAMES.length);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    for (const name of HOSTILE_NAMES) expect(run.stdout).toContain(printable(name));
    expect(run.stdout).toContain("\\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\x07clipboard");
    expect(run.stdout).toContain("line one\\n5b0c2f1e");
    expect(run.stdout).toContain("\\u{202e}gnp.exe");
    expect(run.stdout).toContain("back\\\\slash");
    expect(run.stdout).toContain("[orders:read, \\x1b[8mhidden]");
  });

  it("keys list --json: one JSON line, nothing raw in it, the names given back exactly", async () => {
    const run = await cli(["keys", "list", "--email", "HOSTILE@example.com", "--json"], env);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    const keys = JSON.parse(run.stdout) as { name: string }[];
    expect(keys.map((k) => k.name).sort()).toEqual([...HOSTILE_NAMES].sort());
  });

  it("keys revoke: the name in the confirmation is escaped", async () => {
    const run = await cli(["keys", "revoke", keyIds[2]!], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`Revoked key ${keyIds[2]} (${printable(HOSTILE_NAMES[2])}).\n`);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
  });

  it("what was typed comes back escaped in refusals: an email, a command, an option", async () => {
    for (const argv of [
      ["users", "disable", "evil\u001b]52;c;AAAA\u0007@example.com"],
      ["keys", "list", "--email", "\u001b[2J@example.com"],
      ["\u001b[2Jkeys"],
      ["keys", "list", "--\u001b[31memail", "x@example.com"],
    ]) {
      const run = await cli(argv, env);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^keyscope: /);
      expect(run.stderr, JSON.stringify(argv)).not.toMatch(RAW_CONTROL);
    }
  });
});

describe("printable and printableJson", () => {
  it("leave no forbidden character raw, in text or JSON, and JSON still reads back the same", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: "binary" }), forbiddenChar), { maxLength: 8 }), (parts) => {
        const text = parts.join("");
        expect(printable(text)).not.toMatch(RAW_CONTROL);
        const json = printableJson({ name: text, list: [text] });
        expect(json).not.toMatch(RAW_CONTROL);
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify({ name: text, list: [text] })));
      }),
      { numRuns: 500 },
    );
  });

  it("tells different texts apart: escaping cannot make two names look the same", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
        if (a !== b) expect(printable(a)).not.toBe(printable(b));
      }),
      { numRuns: 500 },
    );
    expect(printable("\\x1b")).not.toBe(printable("\u001b"));
  });
});
