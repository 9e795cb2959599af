import { bigint, index, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { timestampTz } from "./columns.ts";

/** One management action. Written in the same transaction as the change; never holds a secret. */
export const auditEvents = pgTable(
  "audit_events",
  {
    /** Increasing, so it orders events and serves as a stable cursor. */
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestampTz("at").notNull().defaultNow(),
    action: text("action").notNull(),
    /** Null when the actor is the operator CLI. */
    actorUserId: uuid("actor_user_id"),
    actorKeyId: uuid("actor_key_id"),
    targetKeyId: uuid("target_key_id"),
    targetUserId: uuid("target_user_id"),
    ip: text("ip"),
    changes: jsonb("changes"),
  },
  (t) => [
    index("audit_events_target_key_idx").on(t.targetKeyId),
    index("audit_events_target_user_idx").on(t.targetUserId),
  ],
);

export type AuditEventRow = typeof auditEvents.$inferSelect;
