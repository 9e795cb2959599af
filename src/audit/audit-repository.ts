import type { Db } from "../db/client.ts";
import { auditEvents } from "../db/schema/index.ts";

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

export const CLI_ACTOR: Actor = Object.freeze({ userId: null, keyId: null, ip: null });

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
