/**
 * What one secret opens: the key behind it and the bits of its owner that decide whether it
 * works. Cached by hash; judged afresh at every request, since time moves on.
 */
export interface Credential {
  keyId: string;
  /** The secret (key_secrets row) that was presented: the principal re-reads it afresh. */
  secretId: string;
  userId: string;
  clientType: string;
  scopes: readonly string[];
  active: boolean;
  /** Epoch ms, or null for never. */
  expiresAt: number | null;
  revokedAt: number | null;
  /** Epoch ms after which this secret (an old one, during a rotation's grace period) stops. */
  secretExpiresAt: number | null;
  ownerRole: "ADMIN" | "MEMBER";
  ownerDisabled: boolean;
  rateLimit: { limit: number; windowSeconds: number } | null;
}

/** The calling key, as resolvers and the directive see it. */
export interface AuthenticatedKey {
  id: string;
  /** Which of the key's secrets was presented (during a rotation's grace period it has two). */
  secretId: string;
  userId: string;
  clientType: string;
  /** Effective scopes: `keys:admin` is dropped while the owner is not an ADMIN. */
  scopes: ReadonlySet<string>;
  ownerRole: "ADMIN" | "MEMBER";
  rateLimit: { limit: number; windowSeconds: number } | null;
}

export const ADMIN_SCOPE = "keys:admin";
export const SELF_SCOPE = "keys:self";
