import type { Principal } from "../auth/principal.ts";
import type { Db } from "../db/client.ts";
import type { AuditEventRow } from "../db/schema/index.ts";
import { checkId, checkPage, decodeCursor, encodeCursor, toConnection, type Connection } from "../pagination.ts";
import { InputError } from "../errors.ts";
import { checkText } from "../text-check.ts";
import { pageAuditEvents, type AuditAction, type AuditFilter } from "./audit-repository.ts";
import { asSeenBy } from "./audit-visibility.ts";

export const AUDIT_ACTIONS: readonly AuditAction[] = [
  "user.created", "user.updated", "key.created", "key.imported", "key.updated", "key.rotated", "key.revoked",
];

export type AuditService = ReturnType<typeof createAuditService>;

/**
 * Reading the audit trail: admins read everything, others what concerns them and their keys,
 * without the address and key of an admin who acted (audit-visibility.ts).
 */
export function createAuditService({ db }: { db: Db }) {
  return {
    async pageEvents(principal: Principal, filter: AuditFilter, first: number | null | undefined, after: string | null | undefined): Promise<Connection<AuditEventRow>> {
      const page = checkPage(first, after);
      const checked: AuditFilter = {
        keyId: filter.keyId != null ? checkId("filter.keyId", filter.keyId) : null,
        userId: filter.userId != null ? checkId("filter.userId", filter.userId) : null,
        action: filter.action != null ? checkText("filter.action", filter.action, { label: "action", maxLength: 64, keepWhitespace: true }) : null,
      };
      if (checked.action !== null && !AUDIT_ACTIONS.includes(checked.action as AuditAction)) {
        throw new InputError("filter.action", `action must be one of ${AUDIT_ACTIONS.join(", ")}.`);
      }
      const beforeId = page.after ? decodeCursor<[number]>(page.after, (p): p is [number] => p.length === 1 && Number.isSafeInteger(p[0]))[0] : null;
      const visibleTo = principal.admin ? null : principal.userId;
      const { rows, total } = await pageAuditEvents(db, checked, visibleTo, page.first + 1, beforeId);
      const shown = visibleTo === null ? rows : rows.map((row) => asSeenBy(visibleTo, row));
      return toConnection(shown, page.first, total, (row) => encodeCursor([row.id]));
    },
  };
}
