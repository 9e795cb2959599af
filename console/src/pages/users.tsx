import { useState } from "preact/hooks";
import { updateUser, users, type ApiError } from "../api.ts";
import { CreateKeyDialog } from "../components/create-key-dialog.tsx";
import { DataTable } from "../components/data-table.tsx";
import { ErrorList } from "../components/errors.tsx";
import { Link } from "../components/link.tsx";
import { ConnectionPager } from "../components/pager.tsx";
import { Badge } from "../components/status-badges.tsx";
import { UserDialog } from "../components/user-dialog.tsx";
import { PAGE_SIZE } from "../constants.ts";
import { dateTime, relativeTime } from "../format.ts";
import { navigate, withQuery, type Location } from "../router.ts";
import type { Caller, User } from "../types.ts";
import { useResult } from "../use-result.ts";

type Open = { kind: "create" } | { kind: "edit"; user: User } | { kind: "issue"; user: User } | undefined;

/** Every user (admins), 20 to a page: create, edit role and client types, disable / enable, issue a key. */
export function Users(props: { caller: Caller; location: Location }) {
  const after = props.location.query.get("after") ?? undefined;
  const loaded = useResult(() => users(PAGE_SIZE, after), [after]);
  const [open, setOpen] = useState<Open>(undefined);
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [notice, setNotice] = useState("");
  const now = Date.now();

  const setDisabled = async (user: User, disabled: boolean) => {
    const result = await updateUser(user.id, { disabled });
    setErrors(result.ok ? [] : result.errors);
    if (result.ok) setNotice(`${user.email} is ${disabled ? "disabled: their keys stop working" : "enabled again"}.`);
    loaded.reload();
  };

  return (
    <main id="main">
      <div class="page-head">
        <h1>Users</h1>
        <button type="button" class="button-primary" onClick={() => setOpen({ kind: "create" })}>
          Create a user
        </button>
      </div>
      <p role="status" class="status-line">{notice}</p>
      <ErrorList errors={errors} />
      {loaded.state === "loading" ? <p role="status">Loading users…</p> : null}
      {loaded.state === "failed" ? <ErrorList errors={loaded.errors} /> : null}
      {loaded.state === "ok" ? (
        <>
          <DataTable
            caption="Users"
            rows={loaded.data.nodes}
            rowKey={(u) => u.id}
            empty="No users."
            columns={[
              { header: "Email", cell: (u) => u.email, class: "col-name" },
              { header: "Name", cell: (u) => u.name ?? <span class="muted">—</span> },
              { header: "Role", cell: (u) => (u.role === "ADMIN" ? "Admin" : "Member") },
              { header: "Client types", cell: (u) => (u.clientTypes.length > 0 ? u.clientTypes.join(", ") : <span class="muted">none</span>) },
              { header: "State", cell: (u) => (u.disabled ? <Badge tone="off" label="Disabled" /> : <Badge tone="ok" label="Enabled" />) },
              { header: "Created", cell: (u) => <time dateTime={u.createdAt} title={dateTime(u.createdAt)}>{relativeTime(u.createdAt, now)}</time> },
              {
                header: "Actions",
                cell: (u) => (
                  <div class="row-actions">
                    <button type="button" onClick={() => setOpen({ kind: "edit", user: u })} aria-label={`Edit ${u.email}`}>Edit</button>
                    <button type="button" onClick={() => setDisabled(u, !u.disabled)} aria-label={`${u.disabled ? "Enable" : "Disable"} ${u.email}`}>
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                    <button type="button" onClick={() => setOpen({ kind: "issue", user: u })} aria-label={`Issue a key to ${u.email}`}>Issue a key</button>
                    <Link to={withQuery("/all-keys", { user: u.id })}>Keys</Link>
                  </div>
                ),
              },
            ]}
          />
          <ConnectionPager noun="users" page={loaded.data} after={after} go={(cursor) => navigate(withQuery("/users", { after: cursor }))} />
        </>
      ) : null}
      {open?.kind === "create" || open?.kind === "edit" ? (
        <UserDialog
          user={open.kind === "edit" ? open.user : undefined}
          onClose={() => setOpen(undefined)}
          onSaved={(u) => {
            setNotice(open.kind === "edit" ? `${u.email} saved.` : `${u.email} created.`);
            loaded.reload();
          }}
        />
      ) : null}
      {open?.kind === "issue" ? (
        <CreateKeyDialog
          caller={props.caller}
          admin
          owner={open.user}
          onClose={() => setOpen(undefined)}
          onCreated={(key) => setNotice(`Key “${key.name}” issued to ${open.user.email}.`)}
        />
      ) : null}
    </main>
  );
}
