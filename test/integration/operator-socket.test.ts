// SPEC §8, issue 13 §1: the operator CLI beside a running embedded server, through the socket
// in its data directory. In-process (runCli talking to a server in this process over the real
// socket) where the process does not matter; real processes where it does (a killed server's
// stale socket, `npx keyscope` beside `npm start`).
import { cpSync, existsSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { MAX_REQUEST_BYTES } from "../../src/cli/operator-protocol.ts";
import { OperatorSocketError } from "../../src/cli/operator-socket.ts";
import { createKeyscopeServer, type KeyscopeServer } from "../../src/keyscope-server.ts";
import { createLogger } from "../../src/logger.ts";
import { freePort, killAll, minimalEnv, runNode, spawnNode } from "../helpers/child-process.ts";
import { cli, keyscope, migratedTemplate } from "../helpers/cli.ts";
import { postGraphQL, send } from "../helpers/http.ts";

const ME = "{ me { user { email } apiKey { id } } }";
const ANY_SECRET = /[a-z][a-z0-9]{0,15}_[0-9A-Za-z]{38}/;

const me = (url: string, secret: string) => postGraphQL(url, { query: ME }, [["x-api-key", secret]]);

/** Sends raw bytes to a socket and collects all it answers until it closes. */
function rawExchange(path: string, bytes: string | Buffer, end = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let answer = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => (answer += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
    socket.on("connect", () => (end ? socket.end(bytes) : socket.write(bytes)));
  });
}

/** A migrated PGlite directory to copy: initdb costs seconds, a copy does not. */
let template: string;
const dirs: string[] = [];

async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "keyscope-sock-"));
  dirs.push(dir);
  cpSync(template, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  template = await migratedTemplate("keyscope-sock-template-");
});

afterEach(() => killAll());

afterAll(async () => {
  killAll();
  for (const dir of [template, ...dirs.splice(0)]) await rm(dir, { recursive: true, force: true });
});

describe("each command while a server runs: the change holds on the very next request", () => {
  let dir: string;
  let env: Record<string, string>;
  let app: KeyscopeServer;
  let url: string;
  let admin: { secret: string; keyId: string; userId: string };

  beforeAll(async () => {
    dir = await freshDataDir();
    env = { KEYSCOPE_DATA_DIR: dir };
    app = await createKeyscopeServer({ dataDir: dir, logger: createLogger("silent") });
    url = (await app.listen({ port: 0, host: "127.0.0.1" })).url;
  });

  afterAll(() => app?.close());

  /** A member with a key, created on the server; the key is checked once so that it is cached. */
  async function cachedMemberKey(email: string) {
    const user = await app.users.createUser(CLI_PRINCIPAL, { email, clientTypes: ["mobile"] });
    const issued = await app.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: `${email} phone`, clientType: "mobile", scopes: [] });
    expect((await me(url, issued.secret)).status).toBe(200);
    expect(app.cache.size, "the key is in the server's cache").toBeGreaterThan(0);
    return { userId: user.id, keyId: issued.apiKey.id, secret: issued.secret, start: issued.apiKey.start };
  }

  it("the server's socket: in the data directory, a socket, owned by this user, mode 0600", () => {
    const path = join(dir, "keyscope.sock");
    expect(app.operatorSocket?.path).toBe(path);
    const stat = lstatSync(path);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.uid).toBe(process.getuid!());
  });

  it("bootstrap: the admin's key works on the next request, and a second bootstrap is refused by the server", async () => {
    const run = await cli(["bootstrap", "--email", "admin@example.com", "--json"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    admin = JSON.parse(run.stdout);
    const res = await me(url, admin.secret);
    expect(res.json).toEqual({ data: { me: { user: { email: "admin@example.com" }, apiKey: { id: admin.keyId } } } });

    const again = await cli(["bootstrap", "--email", "other@example.com"], env);
    expect(again).toEqual({ code: 1, stdout: "", stderr: expect.stringMatching(/^keyscope: An admin already exists/) });
  });

  it("keys list: the server's view of the user's keys, never a secret", async () => {
    const run = await cli(["keys", "list", "--email", "admin@example.com", "--json"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([expect.objectContaining({ id: admin.keyId, name: "bootstrap admin key", status: "ACTIVE" })]);
    expect(run.stdout).not.toContain(admin.secret);
    expect(run.stdout).not.toMatch(ANY_SECRET);
  });

  it("keys revoke: a cached key fails with KEY_REVOKED on the next request; the audit trail names the CLI", async () => {
    const member = await cachedMemberKey("rita@example.com");
    const run = await cli(["keys", "revoke", member.keyId], env);
    expect(run).toEqual({ code: 0, stdout: `Revoked key ${member.keyId} (rita@example.com phone).\n`, stderr: "" });
    const res = await me(url, member.secret);
    expect(res.status).toBe(401);
    expect(res.json.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_REVOKED" });

    const events = await app.audit.pageEvents(CLI_PRINCIPAL, { keyId: member.keyId, action: "key.revoked" }, 10, null);
    expect(events.edges.map((e) => e.node)).toEqual([
      expect.objectContaining({ actorUserId: null, actorKeyId: null, ip: null, targetKeyId: member.keyId, targetUserId: member.userId }),
    ]);
  });

  it("users disable: every cached key of the user fails with KEY_DISABLED on the next request", async () => {
    const member = await cachedMemberKey("dan@example.com");
    const run = await cli(["users", "disable", "dan@example.com", "--json"], env);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ id: member.userId, email: "dan@example.com", role: "MEMBER", disabled: true });
    const res = await me(url, member.secret);
    expect(res.status).toBe(401);
    expect(res.json.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_DISABLED" });
  });

  it("keys revoke-secret: the leaked secret's cached key fails with KEY_REVOKED on the next request", async () => {
    const member = await cachedMemberKey("lea@example.com");
    const run = await cli(["keys", "revoke-secret", "--json"], env, `${member.secret}\n`);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout);
    expect(output).toMatchObject({ id: member.keyId, start: member.start, status: "REVOKED", alreadyRevoked: false, owner: { id: member.userId, email: "lea@example.com" } });
    expect(run.stdout).not.toContain(member.secret);
    const res = await me(url, member.secret);
    expect(res.json.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_REVOKED" });
  });

  it("the server's refusals come back as the CLI's own: exit 1, the message, nothing on stdout", async () => {
    const cases: [string[], string | undefined, RegExp][] = [
      [["keys", "revoke", "not-an-id"], undefined, /^keyscope: id is not a valid id/],
      [["keys", "list", "--email", "nobody@example.com"], undefined, /^keyscope: No user has the email nobody@example.com\.\n$/],
      [["keys", "revoke-secret"], "ks_typo\n", /^keyscope: This begins with 'ks_' but is not a valid key/],
      [["keys", "revoke-secret"], "a-value-nobody-ever-imported\n", /^keyscope: No key has this secret/],
      [["bootstrap", "--email", "not an email"], undefined, /^keyscope: An admin already exists|^keyscope: The email address is not valid/],
    ];
    for (const [argv, stdin, message] of cases) {
      const run = await cli(argv, env, stdin);
      expect(run.code, argv.join(" ")).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(message);
    }
    expect((await me(url, admin.secret)).status, "nothing changed").toBe(200);
  });

  it("a socket whose permissions were widened is refused, saying why, and nothing is sent", async () => {
    const path = join(dir, "keyscope.sock");
    const member = await cachedMemberKey("wide@example.com");
    for (const mode of [0o666, 0o660, 0o604]) {
      await chmod(path, mode);
      const run = await cli(["keys", "revoke", member.keyId], env);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`${path} has mode 0${mode.toString(8)}: group or others may use it`);
    }
    await chmod(path, 0o600);
    expect((await me(url, member.secret)).status, "the key was not revoked").toBe(200);
    expect((await cli(["keys", "revoke", member.keyId], env)).code, "works again at 0600").toBe(0);
  });

  it("the socket answers nothing but one well-formed command line", async () => {
    const path = join(dir, "keyscope.sock");
    const member = await cachedMemberKey("raw@example.com");
    const answer = async (bytes: string | Buffer) => JSON.parse(await rawExchange(path, bytes));
    expect(await answer("hello\n")).toEqual({ ok: false, error: { code: "BAD_REQUEST", message: "The request is not JSON." } });
    expect(await answer('{"command":"keys list"}\n')).toMatchObject({ ok: false, error: { code: "BAD_REQUEST" } });
    expect(await answer('{"command":"keys list","args":{"positionals":[],"sql":"drop table users"}}\n')).toMatchObject({ ok: false, error: { code: "BAD_REQUEST" } });
    for (const command of ["keys check", "shutdown", "__proto__", "constructor", "toString"]) {
      expect(await answer(`${JSON.stringify({ command, args: { positionals: [] } })}\n`)).toEqual({
        ok: false, error: { code: "BAD_REQUEST", message: `The server runs no command "${command}".` },
      });
    }
    // The server checks the arguments itself: it does not rely on the CLI having done so.
    expect(await answer(`${JSON.stringify({ command: "keys revoke", args: { positionals: [] } })}\n`)).toEqual({
      ok: false, error: { code: "BAD_USER_INPUT", message: "expected 1 argument(s), got 0." },
    });
    expect(await answer(`${JSON.stringify({ command: "keys list", args: { positionals: [] } })}\n`)).toEqual({
      ok: false, error: { code: "BAD_USER_INPUT", message: "--email <address> is needed." },
    });
    expect(await answer(`${JSON.stringify({ command: "keys revoke-secret", args: { positionals: [], input: "a\nb\n" } })}\n`)).toEqual({
      ok: false, error: { code: "BAD_USER_INPUT", message: "Standard input holds 2 lines; give exactly one secret." },
    });
    // Too long without a newline: refused once the bound is passed, without waiting for the rest.
    expect(await answer(Buffer.alloc(MAX_REQUEST_BYTES + 10, "a"))).toEqual({
      ok: false, error: { code: "BAD_REQUEST", message: `A request is one JSON line of at most ${MAX_REQUEST_BYTES} bytes.` },
    });
    // A request cut short (no newline before the end) is not run.
    expect(await answer(JSON.stringify({ command: "keys revoke", args: { positionals: [member.keyId] } }))).toMatchObject({ ok: false, error: { code: "BAD_REQUEST" } });
    expect((await me(url, member.secret)).status, "the key was not revoked").toBe(200);
  });

  it("a client that connects and sends nothing is cut off after the request timeout", async () => {
    const answer = await rawExchange(join(dir, "keyscope.sock"), "", false);
    expect(answer).toBe("");
  }, 15_000);
});

describe("the socket's life", () => {
  it("with no server running, the CLI opens the database itself; a stale socket file alone is ignored", async () => {
    const dir = await freshDataDir();
    const env = { KEYSCOPE_DATA_DIR: dir };
    await makeStaleSocket(join(dir, "keyscope.sock"));
    const run = await cli(["bootstrap", "--email", "a@example.com", "--json"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).secret).toMatch(ANY_SECRET);
    expect(existsSync(join(dir, "keyscope.lock")), "it held and released the lock itself").toBe(false);
  });

  it("a server killed with SIGKILL leaves its lock and socket: the CLI works without it, and the next server replaces the socket", async () => {
    const dir = await freshDataDir();
    const env = { KEYSCOPE_DATA_DIR: dir };
    const port = await freePort();
    const first = await startMain(dir, port);
    const boot = await keyscope(["bootstrap", "--email", "a@example.com", "--json"], env);
    expect(boot.stderr).toBe("");
    const { secret, keyId } = JSON.parse(boot.stdout);
    first.child.kill("SIGKILL");
    await first.exited(10_000);
    expect(lstatSync(join(dir, "keyscope.sock")).isSocket(), "the killed server's socket is left behind").toBe(true);
    expect(JSON.parse(await readFile(join(dir, "keyscope.lock"), "utf8")).pid).toBe(first.child.pid);

    const listed = await keyscope(["keys", "list", "--email", "a@example.com", "--json"], env);
    expect(listed.stderr).toBe("");
    expect(JSON.parse(listed.stdout).map((k: { id: string }) => k.id)).toEqual([keyId]);

    const second = await startMain(dir, port);
    const revoked = await keyscope(["keys", "revoke", keyId], env);
    expect(revoked.stderr).toBe("");
    expect(revoked.code).toBe(0);
    const res = await me(`http://127.0.0.1:${port}/graphql`, secret);
    expect(res.json.errors[0].extensions.reason).toBe("KEY_REVOKED");
    expect(second.stdout(), "the second server ran the command").toContain('"command":"keys revoke","ok":true');
    second.child.kill("SIGTERM");
    expect((await second.exited(15_000)).code).toBe(0);
    expect(existsSync(join(dir, "keyscope.sock")), "removed at stop").toBe(false);
  }, 120_000);

  it("a server does not start over a socket another process listens on, nor over a file that is not a socket", async () => {
    const dir = await freshDataDir();
    const path = join(dir, "keyscope.sock");
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(path, resolve));
    try {
      await expect(createKeyscopeServer({ dataDir: dir, logger: createLogger("silent") })).rejects.toThrow(OperatorSocketError);
      await expect(createKeyscopeServer({ dataDir: dir, logger: createLogger("silent") })).rejects.toThrow(`Another process listens on ${path}`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    writeFileSync(path, "not a socket");
    await expect(createKeyscopeServer({ dataDir: dir, logger: createLogger("silent") })).rejects.toThrow(`${path} exists and is not a socket`);
    expect(existsSync(join(dir, "keyscope.lock")), "the failed start released the data directory").toBe(false);
  });

  it("a data directory others may write to: the server warns (they could replace the socket); a private one, no warning", async () => {
    for (const [mode, warned] of [[0o777, true], [0o700, false]] as const) {
      const dir = await freshDataDir();
      await chmod(dir, mode);
      const lines: string[] = [];
      const logger = createLogger("warn", new Writable({ write: (chunk, _e, done) => void (lines.push(String(chunk)), done()) }));
      const app = await createKeyscopeServer({ dataDir: dir, logger });
      await app.close();
      expect(lines.join("").includes("the data directory is writable by group or others"), mode.toString(8)).toBe(warned);
    }
  });

  it("a data directory whose socket path is too long: the server starts without a socket and says so; the CLI then names the lock", async () => {
    const base = await mkdtemp(join(tmpdir(), "keyscope-sock-long-"));
    dirs.push(base);
    const dir = join(base, "d".repeat(60), "e".repeat(40));
    mkdirSync(dir, { recursive: true });
    cpSync(template, dir, { recursive: true });
    const lines: string[] = [];
    const logger = createLogger("warn", new Writable({ write: (chunk, _e, done) => void (lines.push(String(chunk)), done()) }));
    const app = await createKeyscopeServer({ dataDir: dir, logger });
    try {
      expect(app.operatorSocket).toBeUndefined();
      expect(lines.join("")).toContain("the operator socket's path is too long for a Unix socket");
      const run = await cli(["keys", "list", "--email", "a@example.com"], { KEYSCOPE_DATA_DIR: dir });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/is in use by the Keyscope server/);
    } finally {
      await app.close();
    }
  });
});

describe("beside npm start, as real processes", () => {
  it("bootstrap, revoke-secret from a pipe, and the very next curl sees each change", async () => {
    const dir = await freshDataDir();
    const env = { KEYSCOPE_DATA_DIR: dir };
    const port = await freePort();
    const server = await startMain(dir, port);
    const url = `http://127.0.0.1:${port}/graphql`;

    const boot = await keyscope(["bootstrap", "--email", "ops@example.com", "--json"], env);
    expect(boot.stderr).toBe("");
    const { secret, keyId } = JSON.parse(boot.stdout);
    expect((await me(url, secret)).json.data.me.apiKey.id).toBe(keyId);
    expect((await me(url, secret)).status, "and again, from the cache").toBe(200);

    const revoked = await keyscope(["keys", "revoke-secret"], env, `${secret}\r\n`);
    expect(revoked.stderr).toBe("");
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^Revoked key ${keyId} \\(bootstrap admin key, ks_[0-9A-Za-z]{4}…\\) of ops@example\\.com at `));
    expect(revoked.stdout + revoked.stderr).not.toContain(secret);
    expect((await me(url, secret)).json.errors[0].extensions.reason).toBe("KEY_REVOKED");

    const ready = await send(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const logged = server.stdout();
    expect(logged).not.toContain(secret);
    expect(logged).toContain('"command":"keys revoke-secret","ok":true');
    server.child.kill("SIGTERM");
    expect((await server.exited(15_000)).code).toBe(0);
  }, 120_000);
});

/** `npm start` on `dir` at `port`, once it says where it listens. */
async function startMain(dir: string, port: number) {
  const server = spawnNode(["--import", "tsx", "src/main.ts"], minimalEnv({ KEYSCOPE_DATA_DIR: dir, PORT: String(port), HOST: "127.0.0.1" }));
  await server.waitForLine((line) => /listening/i.test(line), 45_000);
  return server;
}

/** A socket file nobody listens on: its process was killed before it could remove it. */
async function makeStaleSocket(path: string): Promise<void> {
  const script = `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`;
  await runNode(["-e", script], minimalEnv());
  expect(lstatSync(path).isSocket()).toBe(true);
}
