import { useState } from "preact/hooks";
import { auditEvents } from "../api.ts";
import { AuditTable } from "../components/audit-table.tsx";
import { ErrorList, fieldError } from "../components/errors.tsx";
import { Field } from "../components/field.tsx";
import { UserSelect } from "../components/user-select.tsx";
import { ConnectionPager } from "../components/pager.tsx";
import { AUDIT_ACTIONS, PAGE_SIZE } from "../constants.ts";
import { navigate, withQuery, type Location } from "../router.ts";
import type { AuditFilter, Caller } from "../types.ts";
import { useResult } from "../use-result.ts";
import { useUserIndex } from "../use-user-index.ts";

/** The whole audit log (admins), newest first, filtered by key, user and action in the URL. */
export function AuditLog(props: { caller: Caller; location: Location }) {
  const q = props.location.query;
  const keyId = q.get("key") ?? undefined;
  const userId = q.get("user") ?? undefined;
  const action = q.get("action") ?? undefined;
  const after = q.get("after") ?? undefined;
  const filter: AuditFilter = {};
  if (keyId) filter.keyId = keyId;
  if (userId) filter.userId = userId;
  if (action) filter.action = action;
  const loaded = useResult(() => auditEvents(filter, PAGE_SIZE, after), [keyId, userId, action, after]);
  const people = useUserIndex();
  const [typedKey, setTypedKey] = useState(keyId ?? "");
  const errors = loaded.state === "failed" ? loaded.errors : [];
  const go = (change: Record<string, string | undefined>) => navigate(withQuery("/audit", { key: keyId, user: userId, action, ...change, after: change.after }));

  return (
    <main id="main">
      <h1>Audit log</h1>
      <form
        class="filters"
        aria-label="Filter events"
        onSubmit={(e) => {
          e.preventDefault();
          go({ key: typedKey.trim() || undefined });
        }}
      >
        <Field id="audit-key" label="Key id" error={fieldError(errors, "filter.keyId")}>
          {(a11y) => <input {...a11y} type="text" spellcheck={false} value={typedKey} onInput={(e) => setTypedKey(e.currentTarget.value)} />}
        </Field>
        <Field id="audit-user" label="User" error={fieldError(errors, "filter.userId")}>
          {(a11y) => <UserSelect a11y={a11y} users={people.list} value={userId} onChange={(user) => go({ user })} />}
        </Field>
        <Field id="audit-action" label="Action" error={fieldError(errors, "filter.action")}>
          {(a11y) => (
            <select {...a11y} value={action ?? ""} onChange={(e) => go({ action: e.currentTarget.value || undefined })}>
              <option value="">Any action</option>
              {AUDIT_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div class="field field-button">
          <button type="submit">Apply</button>
        </div>
      </form>
      <ErrorList errors={errors} shownFields={["filter.keyId", "filter.userId", "filter.action"]} />
      {loaded.state === "loading" ? <p role="status">Loading events…</p> : null}
      {loaded.state === "ok" ? (
        <>
          <AuditTable
            caption="Audit events"
            events={loaded.data.nodes}
            now={Date.now()}
            names={{ user: people.email, key: (id) => (id === props.caller.apiKey.id ? props.caller.apiKey.name : undefined) }}
          />
          <ConnectionPager noun="events" page={loaded.data} after={after} go={(cursor) => go({ after: cursor })} />
        </>
      ) : null}
    </main>
  );
}
