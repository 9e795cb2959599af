// npx keyscope <command>: operator commands for people with database access (break-glass).
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type KeyscopeConfig } from "../config.ts";
import { createCore } from "../core.ts";
import { DataDirLockedError, liveLockHolder } from "../db/data-dir-lock.ts";
import { openMigratedDatabase } from "../db/open-migrated.ts";
import { classify, InputError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { safeErrorMessage } from "../error-serializer.ts";
import { checkArgs, checkInput, commands, type Command, type CommandArgs, type CommandShape, type Output } from "./commands.ts";
import { offlineCommands } from "./offline-commands.ts";
import { checkSocketFile, OperatorSocketRefusedError, sendOperatorRequest, ServerGoneError } from "./operator-client.ts";
import { operatorSocketPath } from "./operator-protocol.ts";
import { printable, printableJson } from "./printable.ts";
import { InputTooLargeError, readStandardInput } from "./standard-input.ts";

const USAGE = `Usage:
  keyscope bootstrap --email <address> [--json]   create the first admin and a key (printed once)
  keyscope keys list --email <address> [--json]   list a user's keys (never their secrets)
  keyscope keys revoke <key-id> [--json]          revoke a key, at once and for good
  keyscope keys revoke-secret [--json] < secret   revoke the key a leaked secret belongs to (read from stdin)
  keyscope keys check [--json] < strings          say offline whether each line is a Keyscope key (for scanner hits)
  keyscope users disable <email> [--json]         disable a user: all their keys stop working

The database is chosen as the server chooses it: DATABASE_URL, else the embedded database in
KEYSCOPE_DATA_DIR (default ./data). While a server runs on that embedded database, the commands
go to it through its socket in the data directory (only the directory's owner can use it).
Every change is written to the audit trail with the CLI as its actor.`;

/** Standard input a command may send: a secret is short, a scanner's hits are not. */
const MAX_INPUT_BYTES = { secret: 16 * 1024, lines: 1024 * 1024 } as const;

class UsageError extends Error {}

/** Runs one command; returns the exit code. Output goes to the given streams; `input` is standard input. */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  input?: NodeJS.ReadableStream,
): Promise<number> {
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
  const names = [...Object.keys(commands), ...Object.keys(offlineCommands)];
  const grouped = names.some((c) => c.startsWith(`${argv[0]} `));
  const name = grouped ? `${argv[0]} ${argv[1] ?? ""}`.trim() : argv[0]!;
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  const offline = Object.hasOwn(offlineCommands, name) ? offlineCommands[name] : undefined;
  const shape = command ?? offline;
  if (!shape) return fail(`unknown command "${printable(name)}".\n\n${USAGE}`);
  const rest = argv.slice(name.split(" ").length);
  const json = rest.includes("--json");
  try {
    const config = loadConfig(env);
    const args = parseFlags(rest.filter((a) => a !== "--json"), shape);
    checkShape(shape, args);
    if (shape.stdin) {
      if ((input as { isTTY?: boolean } | undefined)?.isTTY) err.write(`Paste ${shape.stdin === "secret" ? "the key" : "one string per line"}, then press Enter and Ctrl-D.\n`);
      args.input = await readStandardInput(input, MAX_INPUT_BYTES[shape.stdin]);
      checkInput(shape, args);
    }
    const output = offline ? offline.run(config, args) : await runCommand(name, command!, args, config);
    out.write(json ? `${printableJson(output.json)}\n` : `${output.text}\n`);
    return 0;
  } catch (error) {
    // Messages may repeat what was typed (an unknown option) or stored: escaped like any output.
    if (error instanceof UsageError) return fail(`${printable(error.message)}\n\n${USAGE}`);
    if (error instanceof ConfigError || error instanceof DataDirLockedError || error instanceof OperatorSocketRefusedError) return fail(printable(error.message));
    if (error instanceof InputTooLargeError || error instanceof RefusedByServer) return fail(printable(error.message));
    const refusal = classify(error);
    if (refusal) return fail(printable(refusal.message));
    // A database error's message may hold the query's values.
    throw new Error(printable(safeErrorMessage(error)));
  }
}

/** A command the server refused: its message as the server gave it. */
class RefusedByServer extends Error {}

/**
 * Through the running server's socket when a live server holds the embedded data directory,
 * else on the database itself (PostgreSQL, or the embedded one when no server holds it).
 */
async function runCommand(name: string, command: Command, args: CommandArgs, config: KeyscopeConfig): Promise<Output> {
  const socket = runningServerSocket(config);
  if (socket) {
    try {
      checkSocketFile(socket);
      const response = await sendOperatorRequest(socket, { command: name, args });
      if (!response.ok) throw new RefusedByServer(response.error.message);
      return response.output;
    } catch (error) {
      // Stopped between the look and the connection: the database is (or soon will be) free.
      if (!(error instanceof ServerGoneError)) throw error;
    }
  }
  return runOnDatabase(command, args, config);
}

/** The socket of the live server holding the embedded data directory, if there is one. */
function runningServerSocket(config: KeyscopeConfig): string | undefined {
  if (config.databaseUrl || config.dataDir === "memory://") return undefined;
  if (!liveLockHolder(config.dataDir)) return undefined; // a socket file without a live holder is stale
  const path = operatorSocketPath(config.dataDir);
  return existsSync(path) ? path : undefined;
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

function parseFlags(args: string[], shape: CommandShape): CommandArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: shape.email ? { email: { type: "string" } } : {},
      strict: true,
      // Commands that read stdin take stray words as positionals, refused below without echoing them.
      allowPositionals: shape.positionals > 0 || shape.stdin !== undefined,
    });
  } catch (error) {
    // A secret typed as an argument must not be echoed back.
    throw new UsageError(shape.stdin ? "this command takes no argument but --json." : (error as Error).message);
  }
  const email = (parsed.values as { email?: string }).email;
  return { ...(email === undefined ? {} : { email }), positionals: parsed.positionals };
}

/** The command's shape, checked before anything is opened; argument problems also print the usage. */
function checkShape(shape: CommandShape, args: CommandArgs): void {
  try {
    checkArgs(shape, args);
  } catch (error) {
    if (error instanceof InputError && (error.field === "email" || error.field === "positionals")) throw new UsageError(error.message);
    throw error;
  }
}
