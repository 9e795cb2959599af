import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { runCli } from "../../src/cli/main.ts";
import { openDatabase } from "../../src/db/client.ts";
import type { KeyscopeServerOptions } from "../../src/keyscope-server.ts";
import { minimalEnv, runNode, type Exit } from "./child-process.ts";
import { freshDatabase, type DatabaseKind } from "./databases.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** runCli in this process, its output collected; `stdin` (if given) is its whole standard input. */
export async function cli(argv: string[], env: Record<string, string>, stdin?: string): Promise<CliRun> {
  const collected = { stdout: "", stderr: "" };
  const sink = (name: keyof typeof collected) =>
    new Writable({
      write(chunk, _encoding, done) {
        collected[name] += String(chunk);
        done();
      },
    });
  const input = stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]);
  const code = await runCli(argv, env, sink("stdout"), sink("stderr"), input);
  return { code, ...collected };
}

/** `node bin/keyscope.js …`, as `npx keyscope` runs it. */
export function keyscope(args: string[], env: Record<string, string>, stdin?: string): Promise<Exit> {
  return runNode(["bin/keyscope.js", ...args], minimalEnv(env), 30_000, stdin);
}

/** A database, as the CLI (env) and the server (options) name it. */
export interface CliTarget {
  env: Record<string, string>;
  options: Pick<KeyscopeServerOptions, "databaseUrl" | "dataDir">;
  dispose(): Promise<void>;
}

/** A new embedded data directory on disk, or a new PostgreSQL database. */
export async function makeCliTarget(kind: DatabaseKind, prefix = "keyscope-cli-"): Promise<CliTarget> {
  if (kind === "pglite") {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    return { env: { KEYSCOPE_DATA_DIR: dir }, options: { dataDir: dir }, dispose: () => rm(dir, { recursive: true, force: true }) };
  }
  const database = await freshDatabase(kind);
  const url = database.options.databaseUrl!;
  return { env: { DATABASE_URL: url }, options: { databaseUrl: url }, dispose: () => database.drop() };
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
