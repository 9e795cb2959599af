// The console's choices in one place: grace periods, expiry choices, page sizes, thresholds.

/** How long a rotated key's old secret keeps working (SPEC §6 rotation). */
export const GRACE_PERIODS = [
  { seconds: 0, label: "Now", hint: "the old secret stops at once" },
  { seconds: 3_600, label: "1 hour", hint: "the old secret works one more hour" },
  { seconds: 86_400, label: "24 hours", hint: "the old secret works one more day" },
  { seconds: 604_800, label: "7 days", hint: "the old secret works one more week" },
] as const;

/** When a new key expires. "date" asks for a day; "never" warns. */
export const EXPIRY_CHOICES = [
  { id: "7d", label: "In 7 days", days: 7 },
  { id: "30d", label: "In 30 days", days: 30 },
  { id: "90d", label: "In 90 days", days: 90 },
  { id: "date", label: "On a date", days: undefined },
  { id: "never", label: "Never", days: undefined },
] as const;
export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number]["id"];
export const DEFAULT_EXPIRY: ExpiryChoice = "90d";

/** A key expiring within this many days gets an "Expires soon" badge. */
export const EXPIRES_SOON_DAYS = 7;

/** Rows per page in the paged tables (users, every key, audit log, my keys). */
export const PAGE_SIZE = 20;

/** Keys whose usage one request asks for: well under the server's alias limit. */
export const USAGE_BATCH = 10;

/** The management scopes (SPEC §6). */
export const SELF_SCOPE = "keys:self";
export const ADMIN_SCOPE = "keys:admin";

/** The audit actions (SPEC §6), for the audit log's filter. */
export const AUDIT_ACTIONS = ["user.created", "user.updated", "key.created", "key.imported", "key.updated", "key.rotated", "key.revoked"] as const;

/** Status filter choices, in the order the tables show them. */
export const STATUSES = ["ACTIVE", "DISABLED", "EXPIRED", "REVOKED"] as const;
