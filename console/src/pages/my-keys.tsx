import { useEffect, useState } from "preact/hooks";
import { myKeys, usageOf } from "../api.ts";
import { CreateKeyDialog } from "../components/create-key-dialog.tsx";
import { DataTable } from "../components/data-table.tsx";
import { ErrorList } from "../components/errors.tsx";
import { keyColumns } from "../components/key-columns.tsx";
import { Pager } from "../components/pager.tsx";
import { parseStatus, StatusFilter } from "../components/status-filter.tsx";
import { PAGE_SIZE } from "../constants.ts";
import { navigate, withQuery, type Location } from "../router.ts";
import type { Caller, UsageBucket } from "../types.ts";
import { useResult } from "../use-result.ts";

/** The signed-in user's keys (keys:self), filtered by status in the URL, 20 to a page. */
export function MyKeys(props: { caller: Caller; admin: boolean; location: Location }) {
  const status = parseStatus(props.location.query.get("status"));
  const pageNumber = Math.max(1, Number.parseInt(props.location.query.get("page") ?? "1", 10) || 1);
  const loaded = useResult(() => myKeys(status), [status]);
  const [creating, setCreating] = useState(false);
  const [usage, setUsage] = useState(new Map<string, UsageBucket[]>());
  const now = Date.now();

  const keys = loaded.state === "ok" ? loaded.data : [];
  const shown = keys.slice((pageNumber - 1) * PAGE_SIZE, pageNumber * PAGE_SIZE);
  const shownIds = shown.map((k) => k.id).join(",");
  useEffect(() => {
    if (shownIds === "") return;
    let current = true;
    usageOf(shownIds.split(",")).then((u) => current && setUsage(u));
    return () => {
      current = false;
    };
  }, [shownIds]);

  const go = (params: { status?: string | undefined; page?: number }) =>
    navigate(withQuery("/keys", { status: params.status, page: params.page && params.page > 1 ? String(params.page) : undefined }));

  return (
    <main id="main">
      <div class="page-head">
        <h1>My keys</h1>
        <button type="button" class="button-primary" onClick={() => setCreating(true)}>
          Create a key
        </button>
      </div>
      <div class="filters">
        <StatusFilter id="my-keys-status" value={status} onChange={(s) => go({ status: s })} />
      </div>
      {loaded.state === "failed" ? <ErrorList errors={loaded.errors} /> : null}
      {loaded.state === "loading" ? <p role="status">Loading keys…</p> : null}
      {loaded.state === "ok" ? (
        <>
          <DataTable
            caption="My keys"
            rows={shown}
            rowKey={(k) => k.id}
            columns={keyColumns(now, (k) => usage.get(k.id))}
            empty={status ? "No keys with this status." : "You have no keys yet. Create one to start."}
          />
          <Pager
            noun="keys"
            totalCount={keys.length}
            shown={shown.length}
            hasNextPage={pageNumber * PAGE_SIZE < keys.length}
            onNext={() => go({ status, page: pageNumber + 1 })}
            onFirst={pageNumber > 1 ? () => go({ status }) : undefined}
          />
        </>
      ) : null}
      {creating ? (
        <CreateKeyDialog caller={props.caller} admin={props.admin} owner={props.caller.user} onClose={() => setCreating(false)} onCreated={() => loaded.reload()} />
      ) : null}
    </main>
  );
}
