import { CLI_PRINCIPAL } from "../auth/principal.ts";
import type { Core } from "../core.ts";
import type { ApiKeyRow } from "../db/schema/index.ts";
import { InputError } from "../errors.ts";
import { keyStatus } from "../keys/key-status.ts";
import { normalizeEmail } from "../users/user-service.ts";
import { printed } from "./printable.ts";
import { inputLines } from "./standard-input.ts";

/**
 * What a command prints: one JSON value with --json, else lines for people. Build `text` with
 * the `printed` template, which escapes every value it holds (names come from the database).
 */
export interface Output {
  json: unknown;
  text: string;
}

/** A command's arguments: checked by main.ts before anything is opened, and again by the operator socket. */
export interface CommandArgs {
  email?: string;
  positionals: string[];
  /** Standard input, for the commands that read it. */
  input?: string;
}

/** What a command takes. */
export interface CommandShape {
  /** Whether `--email <address>` is required. */
  email: boolean;
  /** How many positional arguments it takes. */
  positionals: number;
  /** What it reads from standard input (never from an argument: arguments end up in shell history). @default nothing */
  stdin?: "secret" | "lines";
}

export interface Command extends CommandShape {
  run(core: Core, args: CommandArgs): Promise<Output>;
}

/** Throws an InputError when the arguments (email, positionals) do not fit the command's shape. */
export function checkArgs(shape: CommandShape, args: CommandArgs): void {
  if (shape.email && !args.email) throw new InputError("email", "--email <address> is needed.");
  if (shape.stdin && args.positionals.length > shape.positionals) {
    throw new InputError("positionals", "This command reads from standard input, never from an argument: arguments end up in shell history and process lists.");
  }
  if (args.positionals.length !== shape.positionals) {
    throw new InputError("positionals", `expected ${shape.positionals} argument(s), got ${args.positionals.length}.`);
  }
}

/** Throws an InputError when standard input does not hold what the command reads. */
export function checkInput(shape: CommandShape, args: CommandArgs): void {
  if (shape.stdin === "secret") oneSecret(args.input);
  if (shape.stdin === "lines" && inputLines(args.input).length === 0) {
    throw new InputError("input", "Nothing to check on standard input: give one string per line.");
  }
}

/**
 * The operator commands, on the core's services with the CLI principal (audited as the CLI).
 * Keys of the table are the words typed after `keyscope`. A running embedded server runs these
 * same commands for the CLI over its operator socket, and nothing else.
 */
export const commands: Record<string, Command> = {
  bootstrap: {
    email: true,
    positionals: 0,
    async run(core, { email }) {
      const issued = await core.bootstrapAdmin(email!);
      // As stored: bootstrap succeeded, so the address was valid.
      const stored = normalizeEmail(email!);
      return {
        json: { secret: issued.secret, keyId: issued.apiKey.id, userId: issued.apiKey.userId, email: stored },
        text:
          printed`Created admin ${stored} and key ${issued.apiKey.id} (scopes keys:admin, keys:self).\n\n` +
          printed`  ${issued.secret}\n\nThis is the only time the key is shown. Store it somewhere safe.`,
      };
    },
  },
  "keys list": {
    email: true,
    positionals: 0,
    async run(core, { email }) {
      const user = await core.users.getUserByEmail(CLI_PRINCIPAL, email!);
      const keys = await core.keys.listKeysOfUser(CLI_PRINCIPAL, user.id, null);
      const now = core.clock.now();
      return {
        json: keys.map((k) => describeKey(k, now)),
        text: keys.length === 0 ? printed`${user.email} has no keys.` : keys.map((k) => formatKey(k, now)).join("\n"),
      };
    },
  },
  "keys revoke": {
    email: false,
    positionals: 1,
    async run(core, { positionals }) {
      const key = await core.keys.revokeKey(CLI_PRINCIPAL, positionals[0]!);
      return { json: describeKey(key, core.clock.now()), text: printed`Revoked key ${key.id} (${key.name}).` };
    },
  },
  "keys revoke-secret": {
    email: false,
    positionals: 0,
    stdin: "secret",
    async run(core, { input }) {
      const { apiKey: key, owner, alreadyRevoked } = await core.keys.revokeKeyBySecret(CLI_PRINCIPAL, oneSecret(input));
      const revokedAt = key.revokedAt!.toISOString();
      return {
        json: { ...describeKey(key, core.clock.now()), alreadyRevoked, owner: { id: owner.id, email: owner.email } },
        text: alreadyRevoked
          ? printed`Key ${key.id} (${key.name}, ${key.start}…) of ${owner.email} was already revoked at ${revokedAt}.`
          : printed`Revoked key ${key.id} (${key.name}, ${key.start}…) of ${owner.email} at ${revokedAt}. It no longer works.`,
      };
    },
  },
  "users disable": {
    email: false,
    positionals: 1,
    async run(core, { positionals }) {
      const found = await core.users.getUserByEmail(CLI_PRINCIPAL, positionals[0]!);
      const user = await core.users.updateUser(CLI_PRINCIPAL, found.id, { disabled: true });
      return {
        json: { id: user.id, email: user.email, role: user.role, disabled: user.disabled },
        text: printed`Disabled ${user.email}; their keys no longer work.`,
      };
    },
  },
};

/** The one secret on standard input; its line may end in blanks or CRLF. */
function oneSecret(input: string | undefined): string {
  const lines = inputLines(input);
  if (lines.length === 0) throw new InputError("secret", "No secret on standard input: pipe the leaked key in (it is never taken as an argument).");
  if (lines.length > 1) throw new InputError("secret", `Standard input holds ${lines.length} lines; give exactly one secret.`);
  return lines[0]!;
}

function describeKey(k: ApiKeyRow, now: number) {
  return {
    id: k.id, name: k.name, clientType: k.clientType, scopes: k.scopes, start: k.start, status: keyStatus(k, now),
    expiresAt: k.expiresAt?.toISOString() ?? null, revokedAt: k.revokedAt?.toISOString() ?? null, createdAt: k.createdAt.toISOString(),
  };
}

function formatKey(k: ApiKeyRow, now: number): string {
  return printed`${k.id}  ${keyStatus(k, now).padEnd(8)}  ${k.start}…  ${k.clientType}  [${k.scopes.join(", ")}]  ${k.name}`;
}
