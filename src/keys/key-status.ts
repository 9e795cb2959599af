import type { ApiKeyRow } from "../db/schema/index.ts";

export type ApiKeyStatus = "ACTIVE" | "DISABLED" | "EXPIRED" | "REVOKED";

/** Revoked beats expired beats switched off, as in verification. */
export function keyStatus(key: Pick<ApiKeyRow, "revokedAt" | "expiresAt" | "active">, now: number): ApiKeyStatus {
  if (key.revokedAt && key.revokedAt.getTime() <= now) return "REVOKED";
  if (key.expiresAt && key.expiresAt.getTime() <= now) return "EXPIRED";
  return key.active ? "ACTIVE" : "DISABLED";
}
