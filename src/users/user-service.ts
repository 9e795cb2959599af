import { changedFields } from "../audit/changed-fields.ts";
import { recordAuditEvent } from "../audit/audit-repository.ts";
import { announceChange } from "../auth/cache-invalidation.ts";
import type { KeyCache } from "../auth/key-cache.ts";
import { isOperator, type Principal } from "../auth/principal.ts";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import type { UserRow } from "../db/schema/index.ts";
import { checkNameList } from "../keys/key-input.ts";
import { checkAdmin } from "../keys/key-permissions.ts";
import { checkId, checkPage, createdAtCursor, toConnection, type Connection } from "../pagination.ts";
import { InputError, NotFoundError } from "../errors.ts";
import { checkText } from "../text-check.ts";
import { findUserByEmail, findUserById, findUserForUpdate, insertUser, lockActiveAdmins, pageUsers, updateUserRow } from "./user-repository.ts";

export interface UserServiceOptions {
  db: Db;
  /** Shared with the verifier: disabling or demoting a user evicts their keys. */
  cache: KeyCache;
  /** @default systemClock */
  clock?: Clock;
}

export type Role = "ADMIN" | "MEMBER";

export interface CreateUserInput {
  email: string;
  name?: string | null;
  /** @default "MEMBER" */
  role?: Role | null;
  clientTypes?: readonly string[] | null;
}

export interface UpdateUserInput {
  name?: string | null;
  role?: Role | null;
  clientTypes?: readonly string[] | null;
  disabled?: boolean | null;
}

/** After normalisation: one @, no blanks, a local part of at most 64 and a domain of at most 255. */
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const EMAIL_LENGTH = 320;
const NAME_LENGTH = 200;
const MAX_CLIENT_TYPES = 50;

export type UserService = ReturnType<typeof createUserService>;

/** Users, managed by admins (and the CLI). Disabling or demoting evicts the user's keys at once. */
export function createUserService(options: UserServiceOptions) {
  const { db, cache } = options;
  return {
    async createUser(principal: Principal, input: CreateUserInput): Promise<UserRow> {
      checkAdmin(principal);
      const user = {
        email: checkEmail(input.email),
        name: checkUserName(input.name),
        role: input.role ?? "MEMBER",
        clientTypes: checkClientTypes(input.clientTypes),
      };
      try {
        return await db.transaction(async (tx) => {
          if (await findUserByEmail(tx, user.email)) throw duplicateEmail();
          const row = await insertUser(tx, user);
          await recordAuditEvent(tx, { action: "user.created", actor: principal, targetUserId: row.id, changes: user });
          return row;
        });
      } catch (error) {
        // Two creations racing past the check: the unique index on lower(email) decides.
        if (isUniqueViolation(error)) throw duplicateEmail();
        throw error;
      }
    },

    async updateUser(principal: Principal, id: string, input: UpdateUserInput): Promise<UserRow> {
      checkAdmin(principal);
      const userId = checkId("id", id);
      const changes = checkUserUpdate(input);
      const row = await db.transaction(async (tx) => {
        const before = await findUserForUpdate(tx, userId);
        if (!before) throw new NotFoundError("No user has this id.");
        const losesAdmin = before.role === "ADMIN" && !before.disabled && (changes.role === "MEMBER" || changes.disabled === true);
        // The operator CLI may (break-glass); bootstrap can then make a new admin.
        if (losesAdmin && !isOperator(principal)) {
          const admins = await lockActiveAdmins(tx);
          if (admins.length <= 1) {
            throw new InputError(changes.disabled ? "disabled" : "role", "This is the last enabled admin; make another admin first.");
          }
        }
        const diff = changedFields(before, changes);
        if (Object.keys(diff).length === 0) return before;
        const after = await updateUserRow(tx, userId, changes);
        await recordAuditEvent(tx, { action: "user.updated", actor: principal, targetUserId: userId, changes: diff });
        await announceChange(tx, { userId });
        return after;
      });
      cache.evictUser(userId);
      return row;
    },

    async getUser(principal: Principal, id: string): Promise<UserRow | null> {
      checkAdmin(principal);
      return (await findUserById(db, checkId("id", id))) ?? null;
    },

    /** The user with this email, however it is written (normalised as at creation; admins and the CLI). */
    async getUserByEmail(principal: Principal, email: string): Promise<UserRow> {
      checkAdmin(principal);
      const normalised = checkEmail(email);
      const user = await findUserByEmail(db, normalised);
      if (!user) throw new NotFoundError(`No user has the email ${normalised}.`);
      return user;
    },

    async pageUsers(principal: Principal, first: number | null | undefined, after: string | null | undefined): Promise<Connection<UserRow>> {
      checkAdmin(principal);
      const page = checkPage(first, after);
      const { rows, total } = await pageUsers(db, page.first + 1, page.after ? createdAtCursor.decode(page.after) : null);
      return toConnection(rows, page.first, total, createdAtCursor.encode);
    },
  };
}

/** A valid email, normalised: what is stored, compared for uniqueness and looked up. */
export function checkEmail(email: string): string {
  const normalised = normalizeEmail(checkText("email", email, { label: "The email address", maxLength: EMAIL_LENGTH }));
  if (!EMAIL.test(normalised) || normalised.length > EMAIL_LENGTH) throw new InputError("email", "The email address is not valid.");
  return normalised;
}

/**
 * NFKC, then lower case, trimmed: `ＤＥＶ＠example.com` and ` Dev@Example.com` are `dev@example.com`.
 * Lower-casing can un-normalise (U+0130 İ becomes i + U+0307), so both are applied until stable.
 */
export function normalizeEmail(email: string): string {
  let current = email.trim();
  for (let i = 0; i < 4; i++) {
    const next = current.normalize("NFKC").toLowerCase().trim();
    if (next === current) break;
    current = next;
  }
  return current;
}

function checkUserName(name: string | null | undefined): string | null {
  if (name === undefined || name === null) return null;
  const trimmed = checkText("name", name, { label: "The name", maxLength: NAME_LENGTH });
  return trimmed === "" ? null : trimmed;
}

export function checkClientTypes(clientTypes: readonly string[] | null | undefined): string[] {
  return checkNameList("clientTypes", clientTypes, { max: MAX_CLIENT_TYPES, holder: "A user has", noun: "client type" });
}

function checkUserUpdate(input: UpdateUserInput): Partial<UserRow> {
  const changes: Partial<UserRow> = {};
  if (input.name !== undefined) changes.name = checkUserName(input.name);
  if (input.role !== undefined) {
    if (input.role === null) throw new InputError("role", "role must be ADMIN or MEMBER.");
    changes.role = input.role;
  }
  if (input.clientTypes !== undefined) {
    if (input.clientTypes === null) throw new InputError("clientTypes", "clientTypes must be a list (it may be empty).");
    changes.clientTypes = checkClientTypes(input.clientTypes);
  }
  if (input.disabled !== undefined) {
    if (input.disabled === null) throw new InputError("disabled", "disabled must be true or false.");
    changes.disabled = input.disabled;
  }
  return changes;
}

const duplicateEmail = () => new InputError("email", "A user with this email already exists.");

function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === "23505") return true;
  }
  return false;
}
