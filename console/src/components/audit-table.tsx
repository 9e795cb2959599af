import { dateTime, relativeTime } from "../format.ts";
import type { AuditEvent } from "../types.ts";
import { DataTable } from "./data-table.tsx";
import { Link } from "./link.tsx";

/** Names for ids where the console knows them (users' emails, keys' names); the id otherwise. */
export interface Names {
  user: (id: string) => string | undefined;
  key: (id: string) => string | undefined;
}

/** Audit events: who, what, when, from where, and what changed — all as text. */
export function AuditTable(props: { events: readonly AuditEvent[]; now: number; names: Names; caption: string }) {
  const { names, now } = props;
  const user = (id: string | null, fallback: string) => (id ? names.user(id) ?? `user ${id}` : fallback);
  return (
    <DataTable
      caption={props.caption}
      rows={props.events}
      rowKey={(e) => e.id}
      empty="No audit events match."
      columns={[
        { header: "When", cell: (e) => <time dateTime={e.at} title={dateTime(e.at)}>{relativeTime(e.at, now)}</time> },
        { header: "Action", cell: (e) => <code>{e.action}</code> },
        {
          header: "Who",
          cell: (e) => (
            <>
              {user(e.actorUserId, "operator CLI")}
              {e.actorKind === "ADMIN" ? <span class="muted"> (admin)</span> : null}
              {e.actorKeyId ? <span class="muted"> with key {names.key(e.actorKeyId) ?? e.actorKeyId}</span> : null}
            </>
          ),
        },
        {
          header: "Target",
          cell: (e) => (
            <>
              {e.targetKeyId ? <Link to={`/keys/${encodeURIComponent(e.targetKeyId)}`}>key {names.key(e.targetKeyId) ?? e.targetKeyId}</Link> : null}
              {e.targetKeyId && e.targetUserId ? " of " : null}
              {e.targetUserId ? user(e.targetUserId, "") : null}
            </>
          ),
        },
        { header: "From", cell: (e) => e.ip ?? <span class="muted">unknown</span> },
        { header: "Changes", cell: (e) => <Changes changes={e.changes} />, class: "col-changes" },
      ]}
    />
  );
}

/** `{ field: { from, to } }` or the created settings, as a list of text. */
function Changes(props: { changes: unknown }) {
  const { changes } = props;
  if (changes === null || changes === undefined) return <span class="muted">—</span>;
  if (typeof changes !== "object" || Array.isArray(changes)) return <code>{JSON.stringify(changes)}</code>;
  const entries = Object.entries(changes as Record<string, unknown>);
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <dl class="changes">
      {entries.map(([field, value]) => (
        <div key={field}>
          <dt>{field}</dt>
          <dd>{changeText(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

function changeText(value: unknown): string {
  if (value && typeof value === "object" && !Array.isArray(value) && "from" in value && "to" in value) {
    const { from, to } = value as { from: unknown; to: unknown };
    return `${show(from)} → ${show(to)}`;
  }
  return show(value);
}

function show(value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.map(show).join(", ");
  return JSON.stringify(value);
}
