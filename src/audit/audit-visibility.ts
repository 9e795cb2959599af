import type { AuditEventRow } from "../db/schema/index.ts";

/** Who acted, as the trail shows it to everyone. */
export type AuditActorKind = "OPERATOR" | "ADMIN" | "SELF";

/**
 * The operator CLI (no user), the user the event is about acting on themselves or their own
 * keys, or anyone else: only admin power reaches another user's keys and users.
 */
export function actorKind(event: Pick<AuditEventRow, "actorUserId" | "targetUserId">): AuditActorKind {
  if (event.actorUserId === null) return "OPERATOR";
  return event.actorUserId === event.targetUserId ? "SELF" : "ADMIN";
}

/**
 * An event as a caller without admin power sees it: what an admin (or the CLI) did to their
 * keys stays visible, but not from which address or with which key the admin acted; the
 * caller's own actions are shown whole. Admins see every event whole.
 */
export function asSeenBy(viewerUserId: string | null, event: AuditEventRow): AuditEventRow {
  if (event.actorUserId === viewerUserId || (event.ip === null && event.actorKeyId === null)) return event;
  return { ...event, ip: null, actorKeyId: null };
}
