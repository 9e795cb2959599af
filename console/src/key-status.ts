// A key's badges, derived in this one place from the API's data.
import { EXPIRES_SOON_DAYS } from "./constants.ts";
import type { ApiKeyStatus } from "./types.ts";

/** `tone` picks a colour; `label` always says the same in words, so colour is never the only signal. */
export interface Badge {
  label: string;
  tone: "ok" | "off" | "bad" | "warn" | "info";
  /** A longer explanation for the badge's title and the screen reader. */
  description: string;
}

const STATUS_BADGES: Record<ApiKeyStatus, Badge> = {
  ACTIVE: { label: "Active", tone: "ok", description: "The key works." },
  DISABLED: { label: "Disabled", tone: "off", description: "The key is switched off; it can be switched on again." },
  EXPIRED: { label: "Expired", tone: "bad", description: "The key's expiry has passed." },
  REVOKED: { label: "Revoked", tone: "bad", description: "The key is revoked for good." },
};

export function statusLabel(status: ApiKeyStatus): string {
  return STATUS_BADGES[status].label;
}

export function keyBadges(key: { status: ApiKeyStatus; expiresAt: string | null; lastUsedAt: string | null }, now: number): Badge[] {
  const badges = [STATUS_BADGES[key.status]];
  const live = key.status === "ACTIVE" || key.status === "DISABLED";
  if (live && key.expiresAt && Date.parse(key.expiresAt) - now <= EXPIRES_SOON_DAYS * 86_400_000) {
    badges.push({ label: "Expires soon", tone: "warn", description: `The key expires within ${EXPIRES_SOON_DAYS} days.` });
  }
  if (key.lastUsedAt === null && key.status !== "REVOKED") {
    badges.push({ label: "Never used", tone: "info", description: "No request has carried this key yet." });
  }
  return badges;
}

/** Revoked keys are final; everything else can still be changed. */
export function isFinal(status: ApiKeyStatus): boolean {
  return status === "REVOKED";
}
