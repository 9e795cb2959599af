// Issue 13 §4: `keyscope keys revoke-secret` (the secret from stdin, on each database, with no
// server running; beside a running server: operator-socket.test.ts) and `keyscope keys check`
// (offline triage of scanner hits).
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { checksum, generateKey } from "../../src/keys/key-format.ts";
import { createKeyscopeServer, type KeyscopeServer } from "../../src/keyscope-server.ts";
import { createLogger } from "../../src/logger.ts";
import { cli, cliTarget, keyscope, type CliTarget as Target } from "../helpers/cli.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { postGraphQL } from "../helpers/http.ts";

const HASH_SECRET = "a-hash-secret-of-at-least-32-characters";

/** A server on the target for `work` (closed after: the embedded CLI then opens the database itself). */
async function withApp<T>(target: Target, work: (app: KeyscopeServer, url: string) => Promise<T>): Promise<T> {
  const app = await createKeyscopeServer({ ...target.options, hashSecret: HASH_SECRET, logger: createLogger("silent") });
  try {
    const { url } = await app.listen({ port: 0, host: "127.0.0.1" });
    return await work(app, url);
  } finally {
    await app.close();
  }
}

const me = (url: string, secret: string) => postGraphQL(url, { query: "{ me { apiKey { id } } }" }, [["x-api-key", secret]]);

describe("keyscope keys revoke-secret and keys check: bad arguments", () => {
  // Refused before anything is opened: the data directory is never even created.
  const neverCreated = join(tmpdir(), `keyscope-leak-unused-${randomUUID()}`);
  const env = { KEYSCOPE_DATA_DIR: neverCreated };
  afterAll(() => expect(existsSync(neverCreated), "no command opened the database").toBe(false));
  const secret = generateKey("ks");

  it.each<[string, string[], string | undefined, RegExp]>([
    ["revoke-secret with empty stdin", ["keys", "revoke-secret"], "", /^keyscope: No secret on standard input/],
    ["revoke-secret with no stdin at all", ["keys", "revoke-secret"], undefined, /^keyscope: No secret on standard input/],
    ["revoke-secret with only blank lines", ["keys", "revoke-secret", "--json"], "\n  \r\n\t\n", /^keyscope: No secret on standard input/],
    ["revoke-secret with two secrets", ["keys", "revoke-secret"], `${secret}\n${generateKey("ks")}\n`, /^keyscope: Standard input holds 2 lines; give exactly one secret\.\n$/],
    ["revoke-secret with the secret as an argument", ["keys", "revoke-secret", secret], `${secret}\n`, /^keyscope: This command reads from standard input, never from an argument/],
    ["revoke-secret with an unknown flag", ["keys", "revoke-secret", "--force"], `${secret}\n`, /^keyscope: this command takes no argument but --json\./],
    ["check with empty stdin", ["keys", "check"], "", /^keyscope: Nothing to check on standard input/],
    ["check with a string as an argument", ["keys", "check", secret], "", /^keyscope: This command reads from standard input, never from an argument/],
  ])("%s: exit 1, a clear message, nothing on stdout, the secret never echoed", async (_, argv, stdin, message) => {
    const run = await cli(argv, env, stdin);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain(secret);
  });

  it("revoke-secret refuses more than 16 KiB of standard input", async () => {
    const run = await cli(["keys", "revoke-secret"], env, "x".repeat(17 * 1024));
    expect(run).toEqual({ code: 1, stdout: "", stderr: "keyscope: Standard input is larger than 16384 bytes.\n" });
  });

  it("the usage names both commands and says they read standard input", async () => {
    const run = await cli(["help"], env);
    expect(run.stdout).toContain("keyscope keys revoke-secret [--json] < secret");
    expect(run.stdout).toContain("keyscope keys check [--json] < strings");
  });
});

describe("keyscope keys check (offline)", () => {
  const env = { KEYSCOPE_DATA_DIR: join(tmpdir(), `keyscope-check-unused-${randomUUID()}`) };
  const key = generateKey("ks");
  const body = key.slice(0, -6);
  const badChecksum = `${body}${checksum(body) === "000000" ? "000001" : "000000"}`;
  const other = generateKey("acme");
  const input = [key, "", badChecksum, "ks_typo", other, "AKIAIOSFODNN7EXAMPLE", `  ${key}\r`].join("\n");

  it("--json: a verdict per non-blank line, with its line number, a masked start and the length; never the string", async () => {
    const run = await cli(["keys", "check", "--json"], env, input);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const results = JSON.parse(run.stdout) as { line: number; masked: string; length: number; verdict: string; message: string }[];
    expect(results.map(({ line, masked, length, verdict }) => ({ line, masked, length, verdict }))).toEqual([
      { line: 1, masked: `${key.slice(0, 7)}…`, length: 41, verdict: "VALID" },
      { line: 3, masked: `${key.slice(0, 7)}…`, length: 41, verdict: "BAD_CHECKSUM" },
      { line: 4, masked: "…", length: 7, verdict: "MALFORMED" },
      { line: 5, masked: `${other.slice(0, 9)}…`, length: 43, verdict: "OTHER_PREFIX" },
      { line: 6, masked: "AKIA…", length: 20, verdict: "NOT_A_KEY" },
      { line: 7, masked: `${key.slice(0, 7)}…`, length: 41, verdict: "VALID" },
    ]);
    for (const whole of [key, badChecksum, other, "AKIAIOSFODNN7EXAMPLE", "ks_typo"]) expect(run.stdout).not.toContain(whole);
    expect(existsSync(env.KEYSCOPE_DATA_DIR), "no database was opened").toBe(false);
  });

  it("text: one line per string, saying what to do with a valid key", async () => {
    const run = await cli(["keys", "check"], env, `${key}\nks_typo\n`);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `1: ${key.slice(0, 7)}… (41 characters): VALID: a Keyscope key of this server (format and checksum valid): if it leaked, revoke it with \`keyscope keys revoke-secret\`\n` +
        "2: … (7 characters): MALFORMED: begins with 'ks_' but has the wrong length or characters: not a Keyscope key\n",
    );
  });

  it("judges by the configured prefix", async () => {
    const run = await cli(["keys", "check", "--json"], { ...env, KEYSCOPE_KEY_PREFIX: "acme" }, `${key}\n${other}\n`);
    expect(JSON.parse(run.stdout).map((r: { verdict: string }) => r.verdict)).toEqual(["OTHER_PREFIX", "VALID"]);
  });

  it("as a real process, reading a pipe", async () => {
    const exit = await keyscope(["keys", "check", "--json"], env, `${key}\n`);
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    expect(JSON.parse(exit.stdout)).toEqual([expect.objectContaining({ line: 1, verdict: "VALID", length: 41 })]);
    expect(exit.stdout).not.toContain(key);
  });
});

describe.each(databaseKinds)("keyscope keys revoke-secret on %s, no server running", (kind) => {
  let target: Target;
  let env: Record<string, string>;
  let alice: { userId: string; keyId: string; secret: string; start: string };
  let rotated: { keyId: string; oldSecret: string; newSecret: string };
  let imported: { keyId: string; value: string };

  beforeAll(async () => {
    target = await cliTarget(kind);
    env = { ...target.env, KEYSCOPE_HASH_SECRET: HASH_SECRET };
    await withApp(target, async (app) => {
      const user = await app.users.createUser(CLI_PRINCIPAL, { email: "alice@example.com", clientTypes: ["mobile"] });
      const key = await app.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "alice phone", clientType: "mobile", scopes: [] });
      alice = { userId: user.id, keyId: key.apiKey.id, secret: key.secret, start: key.apiKey.start };
      const second = await app.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "alice tablet", clientType: "mobile", scopes: [] });
      const renewed = await app.keys.rotateKey(CLI_PRINCIPAL, second.apiKey.id, 3600);
      rotated = { keyId: second.apiKey.id, oldSecret: second.secret, newSecret: renewed.secret };
      const value = `legacy-${randomUUID()}`;
      const row = await app.keys.importKey(CLI_PRINCIPAL, { userId: user.id, name: "alice legacy", clientType: "mobile", value });
      imported = { keyId: row.id, value };
    });
  });

  afterAll(() => target?.dispose());

  it("a CLI without the server's hash secret finds nothing, and says what may be wrong", async () => {
    const run = await cli(["keys", "revoke-secret"], target.env, `${alice.secret}\n`);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^keyscope: No key has this secret: .*KEYSCOPE_HASH_SECRET/);
  });

  it("revokes the key, says which and whose (never the secret), writes key.revoked as the CLI, and the key fails from then on", async () => {
    const run = await cli(["keys", "revoke-secret", "--json"], env, `${alice.secret}\r\n`);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout);
    expect(output).toMatchObject({
      id: alice.keyId, name: "alice phone", start: alice.start, status: "REVOKED", alreadyRevoked: false,
      owner: { id: alice.userId, email: "alice@example.com" },
    });
    expect(run.stdout).not.toContain(alice.secret);

    await withApp(target, async (app, url) => {
      expect((await me(url, alice.secret)).json.errors[0].extensions.reason).toBe("KEY_REVOKED");
      const events = await app.audit.pageEvents(CLI_PRINCIPAL, { keyId: alice.keyId, action: "key.revoked" }, 10, null);
      expect(events.edges.map((e) => e.node)).toEqual([expect.objectContaining({ actorUserId: null, actorKeyId: null, targetUserId: alice.userId })]);
      expect(JSON.stringify(events)).not.toContain(alice.secret);
    });
  });

  it("again: exit 0, says it was already revoked, and writes no second event", async () => {
    const run = await cli(["keys", "revoke-secret"], env, alice.secret);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Key ${alice.keyId} \\(alice phone, ${alice.start}…\\) of alice@example.com was already revoked at `));
    await withApp(target, async (app) => {
      const events = await app.audit.pageEvents(CLI_PRINCIPAL, { keyId: alice.keyId, action: "key.revoked" }, 10, null);
      expect(events.edges).toHaveLength(1);
    });
  });

  it("an old secret still in its grace period revokes its key: the new secret stops too", async () => {
    const run = await cli(["keys", "revoke-secret", "--json"], env, `${rotated.oldSecret}\n`);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: rotated.keyId, status: "REVOKED" });
    await withApp(target, async (_app, url) => {
      expect((await me(url, rotated.newSecret)).json.errors[0].extensions.reason).toBe("KEY_REVOKED");
    });
  });

  it("an imported key's value is found too", async () => {
    const run = await cli(["keys", "revoke-secret", "--json"], env, `${imported.value}\n`);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toMatchObject({ id: imported.keyId, name: "alice legacy", status: "REVOKED" });
    expect(run.stdout).not.toContain(imported.value);
  });

  it.each<[string, () => string, RegExp]>([
    ["a key of this format never issued", () => generateKey("ks"), /^keyscope: No key has this secret/],
    ["a string with the prefix and a bad checksum", () => `${alice.secret.slice(0, -1)}${alice.secret.endsWith("0") ? "1" : "0"}`, /^keyscope: This begins with 'ks_' but is not a valid key/],
    ["a short non-key", () => "hello", /^keyscope: This is not a key: neither a Keyscope key \('ks_…'\) nor an imported key's value/],
    ["a string with a blank inside", () => "two words that are long enough", /^keyscope: This is not a key/],
  ])("%s: exit 1, a clear message, nothing changed, the string never echoed", async (_, make, message) => {
    const candidate = make();
    const run = await cli(["keys", "revoke-secret"], env, `${candidate}\n`);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain(candidate);
  });
});
