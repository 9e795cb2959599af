// npx keyscope <command>: operator commands for people with database access (break-glass).
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type KeyscopeConfig } from "../config.ts";
import { createCore } from "../core.ts";
import { DataDirLockedError } from "../db/data-dir-lock.ts";
import { openMigratedDatabase } from "../db/open-migrated.ts";
import { classify } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { safeErrorMessage } from "../error-serializer.ts";
import { commands, type Command, type CommandArgs, type Output } from "./commands.ts";
import { printable, printableJson } from "./printable.ts";

const USAGE = `Usage:
  keyscope bootstrap --email <address> [--json]   create the first admin and a key (printed once)
  keyscope keys list --email <address> [--json]   list a user's keys (never their secrets)
  keyscope keys revoke <key-id> [--json]          revoke a key, at once and for good
  keyscope users disable <email> [--json]         disable a user: all their keys stop working

The database is chosen as the server chooses it: DATABASE_URL, else the embedded database in
KEYSCOPE_DATA_DIR (default ./data), which must not be in use by a running server.
Every change is written to the audit trail with the CLI as its actor.`;

class UsageError extends Error {}

/** Runs one command; returns the exit code. Output goes to the given streams. */
export async function runCli(argv: string[], env: Record<string, string | undefined>, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const fail = (message: string) => {
    err.write(`keyscope: ${message}\n`);
    return 1;
  };
  if (argv.length === 0) return fail(`a command is needed.\n\n${USAGE}`);
  if (["help", "--help", "-h"].includes(argv[0]!)) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  // "keys" and "users" take a subcommand; anything else is named by its first word alone.
  const grouped = Object.keys(commands).some((c) => c.startsWith(`${argv[0]} `));
  const name = grouped ? `${argv[0]} ${argv[1] ?? ""}`.trim() : argv[0]!;
  const command = commands[name];
  if (!command) return fail(`unknown command "${printable(name)}".\n\n${USAGE}`);
  const rest = argv.slice(name.split(" ").length);
  const json = rest.includes("--json");
  try {
    const config = loadConfig(env);
    const args = parseFlags(rest.filter((a) => a !== "--json"), command);
    const output = await runOnDatabase(command, args, config);
    out.write(json ? `${printableJson(output.json)}\n` : `${output.text}\n`);
    return 0;
  } catch (error) {
    // Messages may repeat what was typed (an unknown option) or stored: escaped like any output.
    if (error instanceof UsageError) return fail(`${printable(error.message)}\n\n${USAGE}`);
    if (error instanceof ConfigError || error instanceof DataDirLockedError) return fail(printable(error.message));
    const refusal = classify(error);
    if (refusal) return fail(printable(refusal.message));
    // A database error's message may hold the query's values.
    throw new Error(printable(safeErrorMessage(error)));
  }
}

/** The command on the services of the configured database, opened for it alone. */
async function runOnDatabase(command: Command, args: CommandArgs, config: KeyscopeConfig): Promise<Output> {
  const database = await openMigratedDatabase(config, "command line");
  try {
    // The services alone: running servers hear of each change over LISTEN/NOTIFY (PostgreSQL),
    // and on any database within their cache lifetime.
    const core = await createCore({ database, config, logger: createLogger("silent"), serving: false });
    try {
      return await command.run(core, args);
    } finally {
      await core.close();
    }
  } finally {
    await database.close();
  }
}

function parseFlags(args: string[], command: Command): CommandArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: command.email ? { email: { type: "string" } } : {},
      strict: true,
      allowPositionals: command.positionals > 0,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const email = (parsed.values as { email?: string }).email;
  if (command.email && !email) throw new UsageError("--email <address> is needed.");
  if (parsed.positionals.length !== command.positionals) {
    throw new UsageError(`expected ${command.positionals} argument(s), got ${parsed.positionals.length}.`);
  }
  return { email, positionals: parsed.positionals };
}
