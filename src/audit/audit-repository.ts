import { and, count, desc, eq, inArray, lt, or } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { apiKeys, auditEvents, type AuditEventRow } from "../db/schema/index.ts";

export type AuditAction =
  | "user.created"
  | "user.updated"
  | "key.created"
  | "key.imported"
  | "key.updated"
  | "key.rotated"
  | "key.revoked";

/** Who did it: a key over GraphQL, or the operator CLI (no user, no key). */
export interface Actor {
  userId: string | null;
  keyId: string | null;
  ip: string | null;
}

export interface AuditEntry {
  action: AuditAction;
  actor: Actor;
  targetKeyId?: string | null;
  targetUserId?: string | null;
  /** Changed fields, `{ field: { from, to } }` or the created values; never a secret or hash. */
  changes?: unknown;
}

/** Writes one event; call inside the transaction that makes the change. */
export async function recordAuditEvent(db: Db, entry: AuditEntry): Promise<void> {
  await db.insert(auditEvents).values({
    action: entry.action,
    actorUserId: entry.actor.userId,
    actorKeyId: entry.actor.keyId,
    targetKeyId: entry.targetKeyId ?? null,
    targetUserId: entry.targetUserId ?? null,
    ip: entry.actor.ip,
    changes: entry.changes ?? null,
  });
}

export interface AuditFilter {
  keyId?: string | null;
  userId?: string | null;
  action?: string | null;
}

/**
 * Up to `limit` events, newest first, older than the cursor. With `visibleTo`, only events about
 * that user: done by them, done to them, or done to one of their keys.
 */
export async function pageAuditEvents(
  db: Db,
  filter: AuditFilter,
  visibleTo: string | null,
  limit: number,
  beforeId: number | null,
): Promise<{ rows: AuditEventRow[]; total: number }> {
  const where = and(
    filter.keyId ? eq(auditEvents.targetKeyId, filter.keyId) : undefined,
    filter.userId ? or(eq(auditEvents.targetUserId, filter.userId), eq(auditEvents.actorUserId, filter.userId)) : undefined,
    filter.action ? eq(auditEvents.action, filter.action) : undefined,
    visibleTo
      ? or(
          eq(auditEvents.actorUserId, visibleTo),
          eq(auditEvents.targetUserId, visibleTo),
          inArray(auditEvents.targetKeyId, db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.userId, visibleTo))),
        )
      : undefined,
  );
  const [rows, [counted]] = await Promise.all([
    db.select().from(auditEvents).where(and(where, beforeId !== null ? lt(auditEvents.id, beforeId) : undefined)).orderBy(desc(auditEvents.id)).limit(limit),
    db.select({ n: count() }).from(auditEvents).where(where),
  ]);
  return { rows, total: counted?.n ?? 0 };
}
