// The operator CLI two ways: in this process through runCli (fast: no node + tsx start), and as
// the real process `npx keyscope` runs (bin/keyscope.js), for what only a process can show.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { expect } from "vitest";
import { runCli } from "../../src/cli/main.ts";
import { openDatabase } from "../../src/db/client.ts";
import { createKeyscopeServer, type KeyscopeServer, type KeyscopeServerOptions } from "../../src/keyscope-server.ts";
import { createLogger } from "../../src/logger.ts";
import { minimalEnv, runNode, type Exit } from "./child-process.ts";
import { freshDatabase, type DatabaseKind } from "./databases.ts";

/** What a command did: its exit code and everything it wrote. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * runCli in this process with exactly `env` (as minimalEnv builds a child's) and `stdin` (if
 * given) as its whole standard input, its output collected: what `keyscope <argv>` would exit
 * with and print.
 */
export async function cli(argv: string[], env: Record<string, string>, stdin?: string): Promise<CliRun & { code: number }> {
  const collected = { stdout: "", stderr: "" };
  const sink = (name: keyof typeof collected) =>
    new Writable({
      write(chunk, _encoding, done) {
        collected[name] += String(chunk);
        done();
      },
    });
  const input = stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]);
  const code = await runCli(argv, minimalEnv(env), sink("stdout"), sink("stderr"), input);
  return { code, ...collected };
}

/** Any key of any prefix: none may appear in a refusal. */
const ANY_SECRET = /[a-z][a-z0-9]{0,15}_[0-9A-Za-z]{38}/;

/** Exit 0 with nothing on stderr; returns what it printed. */
export function expectSucceeded(run: CliRun): string {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return run.stdout;
}

/** Exit 1, the message on stderr, nothing on stdout, no secret anywhere, no stack trace. */
export function expectRefused(run: CliRun, message: RegExp): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(ANY_SECRET);
  expect(run.stderr, "an expected refusal, not a crash").not.toMatch(/\n\s+at /);
}

/** `node bin/keyscope.js <args>` as a real process, as `npx keyscope` runs it, `stdin` its standard input. */
export function keyscope(args: string[], env: Record<string, string>, stdin?: string, ms?: number): Promise<Exit> {
  return runNode(["bin/keyscope.js", ...args], minimalEnv(env), ms, stdin);
}

/** A database, as the CLI (env) and a server or this test (options) name it. */
export interface CliTarget {
  env: Record<string, string>;
  options: Pick<KeyscopeServerOptions, "databaseUrl" | "dataDir">;
  dispose(): Promise<void>;
}

/**
 * A new database: a PGlite directory (empty, or filled by `fill`, e.g. copying a template) or a
 * new PostgreSQL database.
 */
export async function cliTarget(kind: DatabaseKind, fill?: (dir: string) => void | Promise<void>): Promise<CliTarget> {
  if (kind === "pglite") {
    const dir = await mkdtemp(join(tmpdir(), "keyscope-cli-"));
    await fill?.(dir);
    return { env: { KEYSCOPE_DATA_DIR: dir }, options: { dataDir: dir }, dispose: () => rm(dir, { recursive: true, force: true }) };
  }
  const database = await freshDatabase(kind);
  const url = database.options.databaseUrl!;
  return { env: { DATABASE_URL: url }, options: { databaseUrl: url }, dispose: () => database.drop() };
}

/**
 * A server on a database (e.g. a target's options) for `work`, always closed after: on PGlite
 * the CLI needs the data directory back.
 */
export async function withServer<T>(options: KeyscopeServerOptions, work: (url: string, app: KeyscopeServer) => Promise<T>): Promise<T> {
  const app = await createKeyscopeServer({ ...options, logger: createLogger("silent") });
  try {
    const { url } = await app.listen({ port: 0, host: "127.0.0.1" });
    return await work(url, app);
  } finally {
    await app.close();
  }
}

/**
 * A migrated, never bootstrapped PGlite directory to copy (cpSync) for each test: creating one
 * costs seconds (initdb), copying it does not. Remove it when done.
 */
export async function migratedTemplate(prefix: string): Promise<string> {
  const template = await mkdtemp(join(tmpdir(), prefix));
  const database = await openDatabase({ dataDir: template });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
  return template;
}
