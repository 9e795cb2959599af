import type { Principal } from "../auth/principal.ts";
import { ADMIN_SCOPE, SELF_SCOPE } from "../auth/credential.ts";
import type { UserRow } from "../db/schema/index.ts";
import { InputError, NotFoundError, PermissionError } from "../errors.ts";

/**
 * No escalation (SPEC §6): without admin power a key may only give scopes the calling key
 * holds and a client type from the owner's list; keys:admin only ever goes to ADMIN owners.
 */
export function checkGrant(principal: Principal, owner: UserRow, grant: { scopes?: readonly string[]; clientType?: string }): void {
  const { scopes, clientType } = grant;
  if (scopes?.includes(ADMIN_SCOPE) && owner.role !== "ADMIN") {
    throw new PermissionError("scopes", "SCOPE_NOT_GRANTABLE", `Only keys of ADMIN users may hold ${ADMIN_SCOPE}.`);
  }
  if (principal.admin) return;
  const held = principal.scopes ?? new Set<string>();
  const beyond = scopes?.filter((s) => !held.has(s)) ?? [];
  if (beyond.length > 0) {
    throw new PermissionError("scopes", "SCOPE_NOT_GRANTABLE", `You can only give scopes your own key holds; not ${beyond.map((s) => `'${s}'`).join(", ")}.`);
  }
  if (clientType !== undefined && !owner.clientTypes.includes(clientType)) {
    const allowed = owner.clientTypes.length > 0 ? owner.clientTypes.map((t) => `'${t}'`).join(", ") : "none (ask an admin)";
    throw new PermissionError("clientType", "CLIENT_TYPE_NOT_GRANTABLE", `Client type '${clientType}' is not allowed for your keys; allowed: ${allowed}.`);
  }
}

/** Whose keys a non-admin may issue: their own only. */
export function checkOwnerChoice(principal: Principal, userId: string | null | undefined): string {
  if (principal.admin) {
    const target = userId ?? principal.userId;
    if (!target) throw new InputError("userId", "Say which user the key is for.");
    return target;
  }
  if (userId && userId !== principal.userId) {
    throw new PermissionError("userId", "USER_NOT_ALLOWED", "Only admins can issue keys to other users.");
  }
  return principal.userId!;
}

/** Others' keys do not exist for you: the same NotFoundError as an id that does not exist. */
export function checkKeyVisible(principal: Principal, key: { userId: string } | undefined): asserts key {
  if (!key || (!principal.admin && key.userId !== principal.userId)) throw new NotFoundError("No API key has this id.");
}

/**
 * Without admin power a key may change or rotate only keys that hold nothing it lacks:
 * otherwise a weak key could rotate a strong one and receive its secret.
 */
export function checkKeyManageable(principal: Principal, key: { scopes: readonly string[] }): void {
  if (principal.admin) return;
  const held = principal.scopes ?? new Set<string>();
  const beyond = key.scopes.filter((s) => !held.has(s));
  if (beyond.length > 0) {
    throw new PermissionError(
      "id",
      "KEY_NOT_MANAGEABLE",
      `This key holds ${beyond.map((s) => `'${s}'`).join(", ")}, which your key does not; use a key that holds them, or ask an admin.`,
    );
  }
}

/**
 * Every path to a key list is guarded alike (SPEC §6): a user's own keys need keys:self, as
 * myApiKeys does; anyone else's need admin power, as apiKeys does. It is checked here, where
 * keys are listed, because the rule is an "or" that a `@requiresKey` (all must hold) cannot say,
 * and admin power is the owner's role, read at each request. Others' keys do not exist for
 * you: "hidden" lists nothing.
 */
export function checkKeyListVisible(principal: Principal, userId: string): "visible" | "hidden" {
  if (principal.admin) return "visible";
  if (userId !== principal.userId) return "hidden";
  if (principal.scopes?.has(SELF_SCOPE)) return "visible";
  throw new PermissionError("", "SCOPE_MISSING", `Listing your keys requires scope '${SELF_SCOPE}', which this key does not hold.`);
}

export function checkAdmin(principal: Principal): void {
  if (!principal.admin) throw new PermissionError("", "ADMIN_REQUIRED", "This needs admin power (keys:admin on a key of an ADMIN user).");
}
