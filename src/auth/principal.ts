import type { Actor } from "../audit/audit-repository.ts";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import { keyRejected } from "../errors.ts";
import { findCredentialBySecretId } from "../keys/key-repository.ts";
import type { RateLimitPolicy } from "../limits/rate-limit.ts";
import type { Auth } from "./context.ts";
import { ADMIN_SCOPE } from "./credential.ts";
import { judge } from "./verify-key.ts";

/** Who asks a service for something, and with what power. */
export interface Principal extends Actor {
  /** Admin power: a key holding keys:admin whose owner is ADMIN now, or the operator CLI. */
  admin: boolean;
  /** The calling key's scopes (what it may grant); null for the CLI, which is not a key. */
  scopes: ReadonlySet<string> | null;
  /** The rest of what the calling key holds: the most it may give or manage. Null for the CLI. */
  callingKey: CallingKey | null;
}

/** The calling key's other dimensions (SPEC §6 "No escalation, in any dimension"). */
export interface CallingKey {
  clientType: string;
  /**
   * When the presented secret stops working (epoch ms; null: never): the key's expiry, or sooner
   * the end of a rotation's grace period when the old secret called. A key made or managed with
   * it must not outlive it, or an old secret could outlast its own rotation.
   */
  expiresAt: number | null;
  /** The key's own rate limit; null: the server default (which the key service knows). */
  rateLimit: RateLimitPolicy | null;
}

/** The operator CLI: people with database access, recorded in the audit trail without a user. */
export const CLI_PRINCIPAL: Principal = Object.freeze({ userId: null, keyId: null, ip: null, admin: true, scopes: null, callingKey: null });

/** The operator CLI acts without a user. */
export function isOperator(principal: Principal): boolean {
  return principal.userId === null && principal.admin;
}

/**
 * The principal behind a GraphQL request, read afresh (not from the key cache): the owner's
 * role, so that a demoted admin's keys lose admin power at the very next request on any
 * instance, and the calling key's scopes, expiry, rate limit and state, so that a change made
 * elsewhere a moment ago (a notification still on its way) is what bounds this request. A key
 * that stopped working meanwhile is refused here as it would be at the door.
 */
export async function principalFromAuth(db: Db, auth: Auth, clock: Pick<Clock, "now">): Promise<Principal> {
  const key = auth.key;
  if (!key) throw new Error("principalFromAuth needs an authenticated key (the directive guarantees one)");
  const now = clock.now();
  const credential = await findCredentialBySecretId(db, key.secretId);
  if (!credential) throw keyRejected("KEY_REVOKED");
  const verdict = judge(credential, now);
  if (!verdict.ok) throw keyRejected(verdict.reason);
  const { scopes } = verdict.key;
  const keyExpiry = credential.expiresAt;
  const secretExpiry = credential.secretExpiresAt;
  return {
    userId: credential.userId, keyId: credential.keyId, ip: auth.clientAddress, admin: scopes.has(ADMIN_SCOPE), scopes,
    callingKey: {
      clientType: credential.clientType,
      expiresAt: keyExpiry === null ? secretExpiry : secretExpiry === null ? keyExpiry : Math.min(keyExpiry, secretExpiry),
      rateLimit: credential.rateLimit,
    },
  };
}
