// npx keyscope <command>: operator commands for people with database access.
import { parseArgs } from "node:util";
import { systemClock } from "../clock.ts";
import { ConfigError, loadConfig, type KeyscopeConfig } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { DataDirLockedError, lockDataDir } from "../db/data-dir-lock.ts";
import { ConflictError, InputError } from "../service-errors.ts";
import { bootstrapAdmin } from "./bootstrap.ts";

const USAGE = `Usage: keyscope bootstrap --email <address> [--json]

  bootstrap   Create the first admin and a key with keys:admin and keys:self.
              The key is printed once; store it now.

The database is chosen as the server chooses it: DATABASE_URL, else the embedded
database in KEYSCOPE_DATA_DIR (default ./data), which must not be in use by a running server.`;

/** Runs one command; returns the exit code. Output goes to the given streams. */
export async function runCli(argv: string[], env: Record<string, string | undefined>, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const fail = (message: string) => {
    err.write(`keyscope: ${message}\n`);
    return 1;
  };
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    (command === undefined ? err : out).write(`${USAGE}\n`);
    return command === undefined ? 1 : 0;
  }
  if (command !== "bootstrap") return fail(`unknown command "${command}".\n\n${USAGE}`);

  let args;
  try {
    args = parseArgs({ args: rest, options: { email: { type: "string" }, json: { type: "boolean", default: false } }, strict: true, allowPositionals: false });
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (!args.values.email) return fail(`bootstrap needs --email <address>.\n\n${USAGE}`);

  try {
    const config = loadConfig(env);
    const issued = await withDatabase(config, (db) =>
      bootstrapAdmin({ db, clock: systemClock, keyPrefix: config.keyPrefix, hashSecret: config.hashSecret }, args.values.email!),
    );
    if (args.values.json) {
      out.write(`${JSON.stringify({ secret: issued.secret, keyId: issued.apiKey.id, userId: issued.apiKey.userId, email: args.values.email })}\n`);
    } else {
      out.write(
        `Created admin ${args.values.email} and key ${issued.apiKey.id} (scopes keys:admin, keys:self).\n\n` +
          `  ${issued.secret}\n\nThis is the only time the key is shown. Store it somewhere safe.\n`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof InputError) return fail(`--${error.field}: ${error.message}`);
    if (error instanceof ConflictError || error instanceof ConfigError || error instanceof DataDirLockedError) return fail(error.message);
    throw error;
  }
}

async function withDatabase<T>(config: KeyscopeConfig, work: (db: import("../db/client.ts").Db) => Promise<T>): Promise<T> {
  const release = config.databaseUrl ? () => {} : lockDataDir(config.dataDir, "bootstrap command");
  try {
    const database = await openDatabase(config);
    try {
      await database.migrate();
      return await work(database.db);
    } finally {
      await database.close();
    }
  } finally {
    release();
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"));
if (invokedDirectly) {
  runCli(process.argv.slice(2), process.env, process.stdout, process.stderr).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`keyscope: unexpected failure: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
