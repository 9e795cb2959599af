// SPEC §6, §8: the operator CLI (keys list, keys revoke, users disable) on each database, mostly
// in-process through runCli, and as a real process (bin/keyscope.js) to prove the entry works.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { apiKeys, type ApiKeyRow } from "../../src/db/schema/index.ts";
import { killAll } from "../helpers/child-process.ts";
import { cli, cliTarget, expectRefused, expectSucceeded, keyscope, withServer, type CliRun, type CliTarget } from "../helpers/cli.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { postGraphQL, type HttpResponse } from "../helpers/http.ts";
import { expectUnauthenticated } from "../helpers/refusals.ts";

const ME = "{ me { user { email role } apiKey { id } } }";
const SHA256_HEX = /[0-9a-f]{64}/;

const me = (url: string, secret: string) => postGraphQL(url, { query: ME }, [["x-api-key", secret]]);

function expectAccepted(res: HttpResponse, keyId: string) {
  expect(res.status).toBe(200);
  expect(res.json.errors).toBeUndefined();
  expect(res.json.data.me.apiKey.id).toBe(keyId);
}

/** The public fields `keys list --json` shows for a key. */
function listed(row: ApiKeyRow, status: string) {
  return {
    id: row.id, name: row.name, clientType: row.clientType, scopes: row.scopes, start: row.start, status,
    expiresAt: row.expiresAt?.toISOString() ?? null, revokedAt: row.revokedAt?.toISOString() ?? null, createdAt: row.createdAt.toISOString(),
  };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

afterEach(() => killAll());

describe("keyscope usage", () => {
  // Refused before any database is opened: the data directory is never even created.
  const neverCreated = join(tmpdir(), `keyscope-operator-unused-${randomUUID()}`);
  const env = { KEYSCOPE_DATA_DIR: neverCreated };
  afterAll(() => expect(existsSync(neverCreated), "no command opened the database").toBe(false));

  it.each<[string, string[], RegExp]>([
    ["keys revoke without an id", ["keys", "revoke"], /^keyscope: expected 1 argument\(s\), got 0\./],
    ["keys revoke with two ids", ["keys", "revoke", randomUUID(), randomUUID()], /^keyscope: expected 1 argument\(s\), got 2\./],
    ["keys revoke with only --json", ["keys", "revoke", "--json"], /^keyscope: expected 1 argument\(s\), got 0\./],
    ["users disable without an email", ["users", "disable"], /^keyscope: expected 1 argument\(s\), got 0\./],
    ["keys list without --email", ["keys", "list"], /^keyscope: --email <address> is needed\./],
    ["keys list with --email but no address", ["keys", "list", "--email"], /^keyscope: .*--email/],
    ["keys list with a positional", ["keys", "list", "--email", "a@example.com", "extra"], /^keyscope: .*extra/],
    ["an unknown flag", ["keys", "list", "--email", "a@example.com", "--all"], /^keyscope: .*'--all'/],
    ["an unknown flag on revoke", ["keys", "revoke", randomUUID(), "--force"], /^keyscope: .*'--force'/],
    ["keys alone", ["keys"], /^keyscope: unknown command "keys"\./],
    ["an unknown subcommand", ["keys", "delete", randomUUID()], /^keyscope: unknown command "keys delete"\./],
    ["an unknown command", ["user", "disable", "a@example.com"], /^keyscope: unknown command "user"\./],
    ["no command", [], /^keyscope: a command is needed\./],
  ])("%s: exit 1 with the message and the usage on stderr", async (_, argv, message) => {
    const run = await cli(argv, env);
    expectRefused(run, message);
    expect(run.stderr).toContain("\n\nUsage:\n");
    expect(run.stderr).toContain("keyscope keys revoke <key-id> [--json]");
  });

  it.each([["help"], ["--help"], ["-h"]])("%s: exit 0 with the usage on stdout", async (word) => {
    const run = await cli([word], env);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^Usage:\n/);
    for (const command of ["bootstrap --email <address>", "keys list --email <address>", "keys revoke <key-id>", "users disable <email>"]) {
      expect(run.stdout).toContain(`keyscope ${command} [--json]`);
    }
  });

  it("a bad variable: exit 1 naming it, and no database is opened", async () => {
    const run = await cli(["keys", "list", "--email", "a@example.com"], { ...env, DATABASE_URL: "mysql://localhost/keyscope" });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("keyscope: Invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// URL.\n");
  });
});

describe.each(databaseKinds)("keyscope operator commands on %s", (kind) => {
  let target: CliTarget;
  /** Every secret issued on this database: none may ever appear in the CLI's output. */
  const secrets: string[] = [];
  let admin: { secret: string; keyId: string; userId: string };
  let alice: { id: string; phone: ApiKeyRow; web: ApiKeyRow; old: ApiKeyRow; gone: ApiKeyRow; tablet: ApiKeyRow };
  let bob: { id: string; keys: { row: ApiKeyRow; secret: string }[] };
  let aliceSecrets: Record<"phone" | "tablet", string>;

  function expectNoSecrets(run: CliRun) {
    const output = run.stdout + run.stderr;
    for (const secret of secrets) expect(output).not.toContain(secret);
    expect(output).not.toMatch(SHA256_HEX);
  }

  // One database through listing, revoking, disabling and a second bootstrap, in this order.
  beforeAll(async () => {
    target = await cliTarget(kind);
    const boot = await cli(["bootstrap", "--email", "admin@example.com", "--json"], target.env);
    expectSucceeded(boot);
    admin = JSON.parse(boot.stdout);
    secrets.push(admin.secret);

    await withServer(target.options, async (_url, app) => {
      const issue = async (userId: string, name: string, clientType: string, scopes: string[], expiresAt: Date | null = null) => {
        const issued = await app.keys.createKey(CLI_PRINCIPAL, { userId, name, clientType, scopes, expiresAt });
        secrets.push(issued.secret);
        return issued;
      };
      const a = await app.users.createUser(CLI_PRINCIPAL, { email: "alice@example.com", clientTypes: ["mobile", "web"] });
      const phone = await issue(a.id, "alice phone", "mobile", ["catalogue:read"], new Date(Date.now() + 30 * 86_400_000));
      const web = await issue(a.id, "alice web", "web", []);
      const webOff = await app.keys.updateKey(CLI_PRINCIPAL, web.apiKey.id, { active: false });
      const old = await issue(a.id, "alice old", "mobile", ["catalogue:read", "orders:read"], new Date(Date.now() + 60_000));
      // Expired an hour ago: an expiry in the past cannot be given through the service.
      const [oldExpired] = await app.database.db
        .update(apiKeys).set({ expiresAt: new Date(Date.now() - 3_600_000) }).where(eq(apiKeys.id, old.apiKey.id)).returning();
      const gone = await issue(a.id, "alice gone", "web", []);
      const goneRevoked = await app.keys.revokeKey(CLI_PRINCIPAL, gone.apiKey.id);
      const tablet = await issue(a.id, "alice tablet", "mobile", ["catalogue:read"]);
      alice = { id: a.id, phone: phone.apiKey, web: webOff, old: oldExpired!, gone: goneRevoked, tablet: tablet.apiKey };
      aliceSecrets = { phone: phone.secret, tablet: tablet.secret };

      const b = await app.users.createUser(CLI_PRINCIPAL, { email: "bob@example.com", clientTypes: ["mobile"] });
      bob = { id: b.id, keys: [] };
      for (const name of ["bob one", "bob two"]) {
        const issued = await issue(b.id, name, "mobile", []);
        bob.keys.push({ row: issued.apiKey, secret: issued.secret });
      }
      await app.users.createUser(CLI_PRINCIPAL, { email: "carol@example.com" });
    });
  });

  afterAll(() => target?.dispose());

  describe("keys list", () => {
    it("prints one line per key, oldest first: id, status, start, client type, scopes, name", async () => {
      const run = await cli(["keys", "list", "--email", "alice@example.com"], target.env);
      expectSucceeded(run);
      const lines = run.stdout.split("\n");
      expect(lines.at(-1), "newline-terminated").toBe("");
      const expected: [ApiKeyRow, string, string][] = [
        [alice.phone, "ACTIVE", "[catalogue:read]"],
        [alice.web, "DISABLED", "[]"],
        [alice.old, "EXPIRED", "[catalogue:read, orders:read]"],
        [alice.gone, "REVOKED", "[]"],
        [alice.tablet, "ACTIVE", "[catalogue:read]"],
      ];
      expect(lines).toHaveLength(expected.length + 1);
      expected.forEach(([row, status, scopes], i) => {
        expect(lines[i]).toMatch(
          new RegExp(`^${row.id}\\s+${status}\\s+${escape(row.start)}…\\s+${row.clientType}\\s+${escape(scopes)}\\s+${row.name}$`),
        );
      });
      expectNoSecrets(run);
    });

    it("--json prints one JSON array of each key's public fields and status", async () => {
      const run = await cli(["keys", "list", "--email", "alice@example.com", "--json"], target.env);
      expectSucceeded(run);
      expect(run.stdout.split("\n"), "exactly one line, newline-terminated").toHaveLength(2);
      expect(JSON.parse(run.stdout)).toEqual([
        listed(alice.phone, "ACTIVE"),
        listed(alice.web, "DISABLED"),
        listed(alice.old, "EXPIRED"),
        listed(alice.gone, "REVOKED"),
        listed(alice.tablet, "ACTIVE"),
      ]);
      expectNoSecrets(run);
    });

    it("the email matches whatever its case; a user without keys has an empty list", async () => {
      const upper = await cli(["keys", "list", "--email", "ALICE@example.com", "--json"], target.env);
      expect(upper.code).toBe(0);
      expect(JSON.parse(upper.stdout).map((k: { id: string }) => k.id)).toContain(alice.phone.id);

      const text = await cli(["keys", "list", "--email", "carol@example.com"], target.env);
      expect(text).toEqual({ code: 0, stdout: "carol@example.com has no keys.\n", stderr: "" });
      const json = await cli(["keys", "list", "--email", "carol@example.com", "--json"], target.env);
      expect(json).toEqual({ code: 0, stdout: "[]\n", stderr: "" });
    });

    it("an unknown email: exit 1 with a clear message, nothing on stdout", async () => {
      for (const extra of [[], ["--json"]]) {
        const run = await cli(["keys", "list", "--email", "nobody@example.com", ...extra], target.env);
        expect(run).toEqual({ code: 1, stdout: "", stderr: "keyscope: No user has the email nobody@example.com.\n" });
      }
    });

    it("as a real process: the same JSON as in-process, exit 0", async () => {
      const exit = await keyscope(["keys", "list", "--email", "alice@example.com", "--json"], target.env);
      expectSucceeded(exit);
      const inProcess = await cli(["keys", "list", "--email", "alice@example.com", "--json"], target.env);
      expect(JSON.parse(exit.stdout)).toEqual(JSON.parse(inProcess.stdout));
      expect(exit.stdout).not.toMatch(SHA256_HEX);
      for (const secret of secrets) expect(exit.stdout).not.toContain(secret);
    });
  });

  describe("keys revoke", () => {
    it("revokes at once and for good: the key then fails with KEY_REVOKED, the others still work", async () => {
      const before = Date.now();
      const first = await cli(["keys", "revoke", alice.tablet.id, "--json"], target.env);
      expectSucceeded(first);
      const revoked = JSON.parse(first.stdout);
      const revokedAt = Date.parse(revoked.revokedAt);
      expect(revokedAt).toBeGreaterThanOrEqual(before - 1000);
      expect(revokedAt).toBeLessThanOrEqual(Date.now() + 1000);
      expect(revoked).toEqual({ ...listed(alice.tablet, "REVOKED"), revokedAt: revoked.revokedAt });
      expectNoSecrets(first);

      await withServer(target.options, async (url) => {
        expectUnauthenticated(await me(url, aliceSecrets.tablet), "KEY_REVOKED");
        expectAccepted(await me(url, aliceSecrets.phone), alice.phone.id);
      });
    });

    it("is idempotent: a second revoke succeeds and keeps the first revokedAt", async () => {
      const listedBefore = JSON.parse((await cli(["keys", "list", "--email", "alice@example.com", "--json"], target.env)).stdout);
      const tabletBefore = listedBefore.find((k: { id: string }) => k.id === alice.tablet.id);
      expect(tabletBefore.status).toBe("REVOKED");

      const text = await cli(["keys", "revoke", alice.tablet.id], target.env);
      expect(text).toEqual({ code: 0, stdout: `Revoked key ${alice.tablet.id} (alice tablet).\n`, stderr: "" });
      const json = await cli(["keys", "revoke", alice.tablet.id.toUpperCase(), "--json"], target.env);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(tabletBefore);
    });

    it("writes one key.revoked event with the CLI as actor (no user, no key)", async () => {
      await withServer(target.options, async (_url, app) => {
        const page = await app.audit.pageEvents(CLI_PRINCIPAL, { keyId: alice.tablet.id }, 50, null);
        const revocations = page.edges.map((e) => e.node).filter((e) => e.action === "key.revoked");
        expect(revocations).toHaveLength(1);
        expect(revocations[0]).toMatchObject({
          actorUserId: null, actorKeyId: null, ip: null, targetKeyId: alice.tablet.id, targetUserId: alice.id,
        });
        const changes = revocations[0]!.changes as { revokedAt: { from: unknown; to: string } };
        expect(changes).toEqual({ revokedAt: { from: null, to: expect.any(String) } });
        expect(JSON.stringify(page)).not.toMatch(SHA256_HEX);
      });
    });

    // A refusal's exit code from a real process: the lock case below, and bootstrap-cli.
    it("a malformed id: exit 1, not a valid id", async () => {
      for (const id of ["not-a-key-id", "12345"]) {
        const run = await cli(["keys", "revoke", id], target.env);
        expectRefused(run, /^keyscope: id is not a valid id \(ids look like [0-9a-f-]{36}\)\.\n$/);
      }
    });

    it("an unknown id: exit 1, no such key", async () => {
      const run = await cli(["keys", "revoke", randomUUID(), "--json"], target.env);
      expect(run).toEqual({ code: 1, stdout: "", stderr: "keyscope: No API key has this id.\n" });
    });
  });

  describe("users disable", () => {
    it("disables the user: every one of their keys then fails with KEY_DISABLED", async () => {
      const run = await cli(["users", "disable", "bob@example.com"], target.env);
      expect(run).toEqual({ code: 0, stdout: "Disabled bob@example.com; their keys no longer work.\n", stderr: "" });

      await withServer(target.options, async (url) => {
        for (const key of bob.keys) expectUnauthenticated(await me(url, key.secret), "KEY_DISABLED");
        expectAccepted(await me(url, aliceSecrets.phone), alice.phone.id);
      });
    });

    it("is idempotent, and --json prints the user", async () => {
      const run = await cli(["users", "disable", "bob@example.com", "--json"], target.env);
      expectSucceeded(run);
      expect(JSON.parse(run.stdout)).toEqual({ id: bob.id, email: "bob@example.com", role: "MEMBER", disabled: true });
    });

    it("writes one user.updated event with the CLI as actor", async () => {
      await withServer(target.options, async (_url, app) => {
        const page = await app.audit.pageEvents(CLI_PRINCIPAL, { userId: bob.id, action: "user.updated" }, 50, null);
        expect(page.edges.map((e) => e.node)).toEqual([
          expect.objectContaining({
            action: "user.updated", actorUserId: null, actorKeyId: null, ip: null, targetUserId: bob.id, targetKeyId: null,
            changes: { disabled: { from: false, to: true } },
          }),
        ]);
      });
    });

    it("an unknown email: exit 1 with a clear message", async () => {
      const run = await cli(["users", "disable", "nobody@example.com"], target.env);
      expect(run).toEqual({ code: 1, stdout: "", stderr: "keyscope: No user has the email nobody@example.com.\n" });
    });
  });

  describe("the last admin", () => {
    it("bootstrap refuses while an enabled admin exists", async () => {
      const run = await cli(["bootstrap", "--email", "other@example.com"], target.env);
      expectRefused(run, /^keyscope: An admin already exists/);
    });

    it("the CLI may disable the last admin; bootstrap then makes a new one whose key reads the audit trail", async () => {
      const disable = await cli(["users", "disable", "admin@example.com", "--json"], target.env);
      expectSucceeded(disable);
      expect(JSON.parse(disable.stdout)).toEqual({ id: admin.userId, email: "admin@example.com", role: "ADMIN", disabled: true });

      const boot = await cli(["bootstrap", "--email", "other@example.com", "--json"], target.env);
      expectSucceeded(boot);
      const other = JSON.parse(boot.stdout) as { secret: string; keyId: string; userId: string };
      secrets.push(other.secret);

      await withServer(target.options, async (url) => {
        expectUnauthenticated(await me(url, admin.secret), "KEY_DISABLED");
        const res = await me(url, other.secret);
        expect(res.json).toEqual({ data: { me: { user: { email: "other@example.com", role: "ADMIN" }, apiKey: { id: other.keyId } } } });

        const audit = await postGraphQL(
          url,
          {
            query: `query ($action: String) { auditEvents(filter: { action: $action }, first: 50) {
              edges { node { action actorUserId actorKeyId targetKeyId targetUserId ip changes } } } }`,
            variables: { action: "user.updated" },
          },
          [["x-api-key", other.secret]],
        );
        expect(audit.json.errors).toBeUndefined();
        expect(audit.json.data.auditEvents.edges.map((e: { node: unknown }) => e.node)).toEqual([
          { action: "user.updated", actorUserId: null, actorKeyId: null, targetKeyId: null, targetUserId: admin.userId, ip: null, changes: { disabled: { from: false, to: true } } },
          { action: "user.updated", actorUserId: null, actorKeyId: null, targetKeyId: null, targetUserId: bob.id, ip: null, changes: { disabled: { from: false, to: true } } },
        ]);
        const revoked = await postGraphQL(
          url,
          { query: `{ auditEvents(filter: { action: "key.revoked" }, first: 50) { edges { node { actorUserId actorKeyId targetKeyId } } } }` },
          [["x-api-key", other.secret]],
        );
        expect(revoked.json.data.auditEvents.edges.map((e: { node: unknown }) => e.node)).toEqual([
          { actorUserId: null, actorKeyId: null, targetKeyId: alice.tablet.id },
          { actorUserId: null, actorKeyId: null, targetKeyId: alice.gone.id },
        ]);
        expect(audit.text + revoked.text).not.toMatch(SHA256_HEX);
      });
    });
  });

  // Beside a running embedded server the commands go through its socket: operator-socket.test.ts.
  if (kind === "postgres") {
    it("PostgreSQL is not locked: the CLI runs while a server uses the same database", async () => {
      await withServer(target.options, async () => {
        const run = await cli(["keys", "list", "--email", "alice@example.com", "--json"], target.env);
        expectSucceeded(run);
        expect(JSON.parse(run.stdout)).toHaveLength(5);
      });
    });
  }
});
