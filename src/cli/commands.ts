import { CLI_PRINCIPAL } from "../auth/principal.ts";
import type { Core } from "../core.ts";
import type { ApiKeyRow } from "../db/schema/index.ts";
import { keyStatus } from "../keys/key-status.ts";
import { normalizeEmail } from "../users/user-service.ts";
import { printed } from "./printable.ts";

/**
 * What a command prints: one JSON value with --json, else lines for people. Build `text` with
 * the `printed` template, which escapes every value it holds (names come from the database).
 */
export interface Output {
  json: unknown;
  text: string;
}

/** A command's arguments, checked by main.ts before any database is opened. */
export interface CommandArgs {
  email?: string;
  positionals: string[];
}

export interface Command {
  /** Whether `--email <address>` is required. */
  email: boolean;
  /** How many positional arguments it takes. */
  positionals: number;
  run(core: Core, args: CommandArgs): Promise<Output>;
}

/**
 * The operator commands, on the core's services with the CLI principal (audited as the CLI).
 * Keys of the table are the words typed after `keyscope`.
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

function describeKey(k: ApiKeyRow, now: number) {
  return {
    id: k.id, name: k.name, clientType: k.clientType, scopes: k.scopes, start: k.start, status: keyStatus(k, now),
    expiresAt: k.expiresAt?.toISOString() ?? null, revokedAt: k.revokedAt?.toISOString() ?? null, createdAt: k.createdAt.toISOString(),
  };
}

function formatKey(k: ApiKeyRow, now: number): string {
  return printed`${k.id}  ${keyStatus(k, now).padEnd(8)}  ${k.start}…  ${k.clientType}  [${k.scopes.join(", ")}]  ${k.name}`;
}
