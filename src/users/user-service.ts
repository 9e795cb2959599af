import { recordAuditEvent, type Actor } from "../audit/audit-repository.ts";
import type { KeyCache } from "../auth/key-cache.ts";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import type { UserRow } from "../db/schema/index.ts";
import { NAME_PATTERN } from "../graphql/requires-key.ts";
import { InputError } from "../service-errors.ts";
import { findUserByEmail, insertUser } from "./user-repository.ts";

export interface UserServiceOptions {
  db: Db;
  cache: KeyCache;
  clock: Clock;
}

export interface CreateUserInput {
  email: string;
  name?: string | null;
  role?: "ADMIN" | "MEMBER" | null;
  clientTypes?: readonly string[] | null;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const NAME_LENGTH = 200;

export type UserService = ReturnType<typeof createUserService>;

export function createUserService(options: UserServiceOptions) {
  const { db } = options;
  return {
    /** Checks the input, then inserts the user and its audit event in one transaction. */
    async createUser(input: CreateUserInput, actor: Actor): Promise<UserRow> {
      const user = {
        email: checkEmail(input.email),
        name: checkUserName(input.name),
        role: input.role ?? "MEMBER",
        clientTypes: checkClientTypes(input.clientTypes),
      };
      return db.transaction(async (tx) => {
        if (await findUserByEmail(tx, user.email)) throw new InputError("email", "A user with this email already exists.");
        const row = await insertUser(tx, user);
        await recordAuditEvent(tx, { action: "user.created", actor, targetUserId: row.id, changes: user });
        return row;
      });
    },
  };
}

export function checkEmail(email: string): string {
  const trimmed = email.trim();
  if (!EMAIL.test(trimmed) || trimmed.length > 320) throw new InputError("email", "The email address is not valid.");
  return trimmed;
}

function checkUserName(name: string | null | undefined): string | null {
  if (name === undefined || name === null) return null;
  if (name.length > NAME_LENGTH) throw new InputError("name", `The name must be at most ${NAME_LENGTH} characters.`);
  return name.trim() === "" ? null : name.trim();
}

export function checkClientTypes(clientTypes: readonly string[] | null | undefined): string[] {
  const list = [...new Set(clientTypes ?? [])];
  if (list.some((t) => !NAME_PATTERN.test(t))) {
    throw new InputError("clientTypes", "A client type is 1 to 64 letters, digits or . _ : - (no blanks).");
  }
  return list.sort();
}
