import { useState } from "preact/hooks";
import { auditEvents, keyDetail, updateKey, type ApiError } from "../api.ts";
import { AuditTable } from "../components/audit-table.tsx";
import { EditKeyDialog } from "../components/edit-key-dialog.tsx";
import { ErrorList } from "../components/errors.tsx";
import { Link } from "../components/link.tsx";
import { RevokeKeyDialog } from "../components/revoke-key-dialog.tsx";
import { RotateKeyDialog } from "../components/rotate-key-dialog.tsx";
import { StatusBadges } from "../components/status-badges.tsx";
import { UsageChart } from "../components/usage-chart.tsx";
import { PAGE_SIZE } from "../constants.ts";
import { dateTime, rateLimitText, relativeTime } from "../format.ts";
import { isFinal } from "../key-status.ts";
import type { Caller, KeyDetail as Key } from "../types.ts";
import { useResult } from "../use-result.ts";

type Action = "edit" | "rotate" | "revoke" | undefined;

/** One key: settings, actions, usage for 24 hours and 7 days, and its audit events. */
export function KeyDetail(props: { id: string; caller: Caller; admin: boolean }) {
  const loaded = useResult(() => keyDetail(props.id, Date.now()), [props.id]);
  const events = useResult(() => auditEvents({ keyId: props.id }, PAGE_SIZE), [props.id]);
  const [action, setAction] = useState<Action>(undefined);
  const [errors, setErrors] = useState<ApiError[]>([]);
  const reload = () => {
    loaded.reload();
    events.reload();
  };

  if (loaded.state === "loading") return <main id="main"><p role="status">Loading the key…</p></main>;
  if (loaded.state === "failed") {
    const missing = loaded.errors.some((e) => e.code === "NOT_FOUND" || e.field === "id");
    return (
      <main id="main">
        <h1>{missing ? "No such key" : "The key could not be loaded"}</h1>
        <ErrorList errors={loaded.errors} />
        <p>
          <Link to="/keys">Back to my keys</Link>
        </p>
      </main>
    );
  }
  const key = loaded.data;
  const now = Date.now();
  // SPEC §6: an admin's switch-off sticks; the server refuses the owner, the page says so first.
  const lockedOff = !key.active && key.switchedOffBy === "ADMIN" && !props.admin;
  const toggle = async () => {
    const result = await updateKey(key.id, { active: !key.active });
    setErrors(result.ok ? [] : result.errors);
    reload();
  };

  return (
    <main id="main">
      <p class="breadcrumb">
        {key.owner.id === props.caller.user.id ? <Link to="/keys">My keys</Link> : <Link to={`/all-keys?user=${encodeURIComponent(key.owner.id)}`}>Keys of {key.owner.email}</Link>} /{" "}
        <span>{key.name}</span>
      </p>
      <div class="page-head">
        <h1>{key.name}</h1>
        <StatusBadges apiKey={key} now={now} />
      </div>
      {key.id === props.caller.apiKey.id ? <p class="notice">This is the key you are signed in with: switching it off or revoking it signs you out.</p> : null}
      {isFinal(key.status) ? null : (
        <div class="toolbar" role="group" aria-label="Key actions">
          <button type="button" onClick={() => setAction("edit")}>Edit</button>
          <button type="button" onClick={() => setAction("rotate")}>Rotate</button>
          <button type="button" onClick={toggle} disabled={lockedOff} aria-describedby={lockedOff ? "locked-off" : undefined}>
            {key.active ? "Switch off" : "Switch on"}
          </button>
          <button type="button" class="button-danger" onClick={() => setAction("revoke")}>Revoke</button>
        </div>
      )}
      {lockedOff ? (
        <p id="locked-off" class="notice">
          An admin switched this key off: only an admin can switch it on again.
        </p>
      ) : null}
      <ErrorList errors={errors} />
      <Settings apiKey={key} now={now} />
      <section aria-labelledby="usage-title">
        <h2 id="usage-title">Usage</h2>
        <h3>Last 24 hours</h3>
        <UsageChart usage={key.day} period="Last 24 hours" tickEvery={6} tickLabel="hour" />
        <h3>Last 7 days</h3>
        <UsageChart usage={key.week} period="Last 7 days" tickEvery={24} tickLabel="day" />
      </section>
      <section aria-labelledby="events-title">
        <h2 id="events-title">Audit events</h2>
        {events.state === "failed" ? <ErrorList errors={events.errors} /> : null}
        {events.state === "ok" ? (
          <AuditTable
            caption={`Audit events of ${key.name}`}
            events={events.data.nodes}
            now={now}
            names={{
              user: (id) => (id === props.caller.user.id ? `${props.caller.user.email} (you)` : id === key.owner.id ? key.owner.email : undefined),
              key: (id) => (id === key.id ? key.name : id === props.caller.apiKey.id ? props.caller.apiKey.name : undefined),
            }}
          />
        ) : null}
      </section>
      {action === "edit" ? (
        <EditKeyDialog
          caller={props.caller}
          admin={props.admin}
          apiKey={key}
          ownerClientTypes={key.owner.id === props.caller.user.id ? props.caller.user.clientTypes : key.owner.clientTypes}
          onClose={() => setAction(undefined)}
          onSaved={reload}
        />
      ) : null}
      {action === "rotate" ? <RotateKeyDialog apiKey={key} onClose={() => setAction(undefined)} onRotated={reload} /> : null}
      {action === "revoke" ? <RevokeKeyDialog apiKey={key} onClose={() => setAction(undefined)} onRevoked={reload} /> : null}
    </main>
  );
}

function Settings(props: { apiKey: Key; now: number }) {
  const k = props.apiKey;
  const when = (iso: string | null, none: string) => (iso ? `${dateTime(iso)} (${relativeTime(iso, props.now)})` : none);
  const rows: [string, string][] = [
    ["Owner", k.owner.email],
    ["Start of the key", `${k.start}…`],
    ["Description", k.description ?? "—"],
    ["Client type", k.clientType],
    ["Scopes", k.scopes.length > 0 ? k.scopes.join(", ") : "none"],
    ["Switched", k.active ? "on" : k.switchedOffBy === "ADMIN" ? "off, by an admin" : "off, by its owner"],
    ["Expires", when(k.expiresAt, "never")],
    ["Rate limit", rateLimitText(k.rateLimit)],
    ["Last used", when(k.lastUsedAt, "never")],
    ["Created", when(k.createdAt, "—")],
    ["Updated", when(k.updatedAt, "—")],
    ["Revoked", when(k.revokedAt, "no")],
    ["Id", k.id],
  ];
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <dl class="settings">
        {rows.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
