import { dateTime, relativeTime } from "../format.ts";
import type { ApiKey, UsageBucket } from "../types.ts";
import type { Column } from "./data-table.tsx";
import { Link } from "./link.tsx";
import { Sparkline } from "./sparkline.tsx";
import { StatusBadges } from "./status-badges.tsx";

/** The keys tables' columns, for "My keys" and (with the owner) for every key. */
export function keyColumns<T extends ApiKey>(now: number, usage: (key: T) => UsageBucket[] | undefined, owner?: (key: T) => string): Column<T>[] {
  const columns: Column<T>[] = [
    { header: "Name", cell: (k) => <Link to={`/keys/${encodeURIComponent(k.id)}`}>{k.name}</Link>, class: "col-name" },
    { header: "Start", cell: (k) => <code>{k.start}…</code> },
    { header: "Client type", cell: (k) => k.clientType },
    { header: "Scopes", cell: (k) => (k.scopes.length > 0 ? k.scopes.join(", ") : <span class="muted">none</span>) },
    { header: "Status", cell: (k) => <StatusBadges apiKey={k} now={now} /> },
    { header: "Last used", cell: (k) => (k.lastUsedAt ? <time dateTime={k.lastUsedAt} title={dateTime(k.lastUsedAt)}>{relativeTime(k.lastUsedAt, now)}</time> : <span class="muted">never</span>) },
    { header: "Expires", cell: (k) => (k.expiresAt ? <time dateTime={k.expiresAt} title={dateTime(k.expiresAt)}>{relativeTime(k.expiresAt, now)}</time> : "never") },
    { header: "Usage, 24 h", cell: (k) => <Sparkline usage={usage(k)} /> },
  ];
  if (owner) columns.splice(1, 0, { header: "Owner", cell: (k) => owner(k) });
  return columns;
}
