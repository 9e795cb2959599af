import type { Actor } from "../audit/audit-repository.ts";
import type { Db } from "../db/client.ts";
import { findUserById } from "../users/user-repository.ts";
import type { Auth } from "./context.ts";
import { ADMIN_SCOPE } from "./credential.ts";

/** Who asks a service for something, and with what power. */
export interface Principal extends Actor {
  /** Admin power: a key holding keys:admin whose owner is ADMIN now, or the operator CLI. */
  admin: boolean;
  /** The calling key's scopes (what it may grant); null for the CLI, which is not a key. */
  scopes: ReadonlySet<string> | null;
}

/** The operator CLI: people with database access, recorded in the audit trail without a user. */
export const CLI_PRINCIPAL: Principal = Object.freeze({ userId: null, keyId: null, ip: null, admin: true, scopes: null });

/** The operator CLI acts without a user. */
export function isOperator(principal: Principal): boolean {
  return principal.userId === null && principal.admin;
}

/**
 * The principal behind a GraphQL request. The owner's role is read afresh (not from the key
 * cache), so a demoted admin's keys lose admin power at the very next request, on any instance.
 */
export async function principalFromAuth(db: Db, auth: Auth): Promise<Principal> {
  const key = auth.key;
  if (!key) throw new Error("principalFromAuth needs an authenticated key (the directive guarantees one)");
  const owner = await findUserById(db, key.userId);
  const ownerIsAdmin = owner?.role === "ADMIN" && !owner.disabled;
  const scopes = new Set(key.scopes);
  if (!ownerIsAdmin) scopes.delete(ADMIN_SCOPE);
  return { userId: key.userId, keyId: key.id, ip: auth.clientAddress, admin: scopes.has(ADMIN_SCOPE), scopes };
}
