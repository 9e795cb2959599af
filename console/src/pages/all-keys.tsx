import { useState } from "preact/hooks";
import { allKeys } from "../api.ts";
import { DataTable } from "../components/data-table.tsx";
import { ErrorList, fieldError } from "../components/errors.tsx";
import { Field } from "../components/field.tsx";
import { UserSelect } from "../components/user-select.tsx";
import { keyColumns } from "../components/key-columns.tsx";
import { ConnectionPager } from "../components/pager.tsx";
import { parseStatus, StatusFilter } from "../components/status-filter.tsx";
import { PAGE_SIZE } from "../constants.ts";
import { navigate, withQuery, type Location } from "../router.ts";
import type { KeyFilter, KeyWithUsage } from "../types.ts";
import { useResult } from "../use-result.ts";
import { useUserIndex } from "../use-user-index.ts";

/** Every key (admins), filtered by user, client type and status in the URL, 20 to a page. */
export function AllKeys(props: { location: Location }) {
  const q = props.location.query;
  const filter: KeyFilter = {};
  const userId = q.get("user") ?? undefined;
  const clientType = q.get("clientType") ?? undefined;
  const status = parseStatus(q.get("status"));
  if (userId) filter.userId = userId;
  if (clientType) filter.clientType = clientType;
  if (status) filter.status = status;
  const after = q.get("after") ?? undefined;
  const loaded = useResult(() => allKeys(filter, PAGE_SIZE, after), [userId, clientType, status, after]);
  const people = useUserIndex();
  const [typedClientType, setTypedClientType] = useState(clientType ?? "");
  const now = Date.now();

  const go = (change: Record<string, string | undefined>) =>
    navigate(withQuery("/all-keys", { user: userId, clientType, status, ...change, after: change.after }));
  const errors = loaded.state === "failed" ? loaded.errors : [];

  return (
    <main id="main">
      <h1>All keys</h1>
      <form
        class="filters"
        aria-label="Filter keys"
        onSubmit={(e) => {
          e.preventDefault();
          go({ clientType: typedClientType.trim() || undefined });
        }}
      >
        <Field id="all-keys-user" label="User" error={fieldError(errors, "filter.userId")}>
          {(a11y) => <UserSelect a11y={a11y} users={people.list} value={userId} onChange={(user) => go({ user })} />}
        </Field>
        <div class="field">
          <label for="all-keys-client-type">Client type</label>
          <input id="all-keys-client-type" type="text" value={typedClientType} onInput={(e) => setTypedClientType(e.currentTarget.value)} />
        </div>
        <StatusFilter id="all-keys-status" value={status} onChange={(s) => go({ status: s })} />
        <div class="field field-button">
          <button type="submit">Apply</button>
        </div>
      </form>
      <ErrorList errors={errors} shownFields={["filter.userId"]} />
      {loaded.state === "loading" ? <p role="status">Loading keys…</p> : null}
      {loaded.state === "ok" ? (
        <>
          <DataTable
            caption="All keys"
            rows={loaded.data.nodes}
            rowKey={(k) => k.id}
            columns={keyColumns<KeyWithUsage>(now, (k) => k.usage, (k) => k.owner.email)}
            empty="No keys match these filters."
          />
          <ConnectionPager noun="keys" page={loaded.data} after={after} go={(cursor) => go({ after: cursor })} />
        </>
      ) : null}
    </main>
  );
}
