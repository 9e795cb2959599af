// npx keyscope <command>: operator commands for people with database access (break-glass).
import { parseArgs } from "node:util";
import { CLI_PRINCIPAL } from "../auth/principal.ts";
import { KeyCache } from "../auth/key-cache.ts";
import { systemClock } from "../clock.ts";
import { ConfigError, loadConfig, type KeyscopeConfig } from "../config.ts";
import { openDatabase, type Db } from "../db/client.ts";
import { DataDirLockedError, lockDataDir } from "../db/data-dir-lock.ts";
import type { ApiKeyRow } from "../db/schema/index.ts";
import { listKeysOfUserWithStatus } from "../keys/key-repository.ts";
import { keyStatus } from "../keys/key-status.ts";
import { createKeyService } from "../keys/key-service.ts";
import { ConflictError, InputError, NotFoundError, PermissionError } from "../service-errors.ts";
import { findUserByEmail } from "../users/user-repository.ts";
import { createUserService } from "../users/user-service.ts";
import { bootstrapAdmin } from "./bootstrap.ts";

const USAGE = `Usage:
  keyscope bootstrap --email <address> [--json]   create the first admin and a key (printed once)
  keyscope keys list --email <address> [--json]   list a user's keys (never their secrets)
  keyscope keys revoke <key-id> [--json]          revoke a key, at once and for good
  keyscope users disable <email> [--json]         disable a user: all their keys stop working

The database is chosen as the server chooses it: DATABASE_URL, else the embedded database in
KEYSCOPE_DATA_DIR (default ./data), which must not be in use by a running server.
Every change is written to the audit trail with the CLI as its actor.`;

type Output = { json: unknown; text: string };
type Command = (args: string[], config: KeyscopeConfig) => Promise<Output>;

class UsageError extends Error {}

const commands: Record<string, Command> = {
  bootstrap: async (args, config) => {
    const { email } = parseFlags(args, { email: true }, 0);
    const issued = await withDatabase(config, (db) =>
      bootstrapAdmin({ db, clock: systemClock, keyPrefix: config.keyPrefix, hashSecret: config.hashSecret }, email!),
    );
    return {
      json: { secret: issued.secret, keyId: issued.apiKey.id, userId: issued.apiKey.userId, email },
      text:
        `Created admin ${email} and key ${issued.apiKey.id} (scopes keys:admin, keys:self).\n\n` +
        `  ${issued.secret}\n\nThis is the only time the key is shown. Store it somewhere safe.`,
    };
  },
  "keys list": async (args, config) => {
    const { email } = parseFlags(args, { email: true }, 0);
    const keys = await withDatabase(config, async (db) => {
      const user = await findUserByEmail(db, email!);
      if (!user) throw new NotFoundError(`No user has the email ${email}.`);
      return listKeysOfUserWithStatus(db, user.id, null, systemClock.now());
    });
    const now = systemClock.now();
    return {
      json: keys.map((k) => describeKey(k, now)),
      text: keys.length === 0 ? `${email} has no keys.` : keys.map((k) => formatKey(k, now)).join("\n"),
    };
  },
  "keys revoke": async (args, config) => {
    const { positionals } = parseFlags(args, {}, 1);
    const key = await withDatabase(config, (db) => services(db, config).keys.revokeKey(CLI_PRINCIPAL, positionals[0]!));
    return { json: describeKey(key, systemClock.now()), text: `Revoked key ${key.id} (${key.name}).` };
  },
  "users disable": async (args, config) => {
    const { positionals } = parseFlags(args, {}, 1);
    const email = positionals[0]!;
    const user = await withDatabase(config, async (db) => {
      const found = await findUserByEmail(db, email);
      if (!found) throw new NotFoundError(`No user has the email ${email}.`);
      return services(db, config).users.updateUser(CLI_PRINCIPAL, found.id, { disabled: true });
    });
    return {
      json: { id: user.id, email: user.email, role: user.role, disabled: user.disabled },
      text: `Disabled ${user.email}; their keys no longer work.`,
    };
  },
};

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
  if (!command) return fail(`unknown command "${name}".\n\n${USAGE}`);
  const rest = argv.slice(name.split(" ").length);
  const json = rest.includes("--json");
  try {
    const config = loadConfig(env);
    const output = await command(rest.filter((a) => a !== "--json"), config);
    out.write(json ? `${JSON.stringify(output.json)}\n` : `${output.text}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return fail(`${error.message}\n\n${USAGE}`);
    if (error instanceof InputError) return fail(error.message);
    const expected = [ConflictError, ConfigError, DataDirLockedError, NotFoundError, PermissionError];
    if (expected.some((type) => error instanceof type)) return fail((error as Error).message);
    throw error;
  }
}

function parseFlags(args: string[], flags: { email?: true }, positionalCount: number): { email?: string; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: flags.email ? { email: { type: "string" } } : {},
      strict: true,
      allowPositionals: positionalCount > 0,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const email = (parsed.values as { email?: string }).email;
  if (flags.email && !email) throw new UsageError("--email <address> is needed.");
  if (parsed.positionals.length !== positionalCount) throw new UsageError(`expected ${positionalCount} argument(s), got ${parsed.positionals.length}.`);
  return { email, positionals: parsed.positionals };
}

function services(db: Db, config: KeyscopeConfig) {
  // The CLI's own process needs no key cache; running servers on PostgreSQL hear of each change
  // (LISTEN/NOTIFY) within a second, and on any database within their cache lifetime.
  const cache = new KeyCache({ ttlSeconds: 1, maxEntries: 1 });
  return {
    keys: createKeyService({ db, cache, clock: systemClock, keyPrefix: config.keyPrefix, hashSecret: config.hashSecret, maxKeysPerUser: config.limits.maxKeysPerUser }),
    users: createUserService({ db, cache, clock: systemClock }),
  };
}

function describeKey(k: ApiKeyRow, now: number) {
  return {
    id: k.id, name: k.name, clientType: k.clientType, scopes: k.scopes, start: k.start, status: keyStatus(k, now),
    expiresAt: k.expiresAt?.toISOString() ?? null, revokedAt: k.revokedAt?.toISOString() ?? null, createdAt: k.createdAt.toISOString(),
  };
}

function formatKey(k: ApiKeyRow, now: number): string {
  return `${k.id}  ${keyStatus(k, now).padEnd(8)}  ${k.start}…  ${k.clientType}  [${k.scopes.join(", ")}]  ${k.name}`;
}

async function withDatabase<T>(config: KeyscopeConfig, work: (db: Db) => Promise<T>): Promise<T> {
  const release = config.databaseUrl ? () => {} : lockDataDir(config.dataDir, "command line");
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
