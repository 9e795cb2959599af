import { useState } from "preact/hooks";
import { createUser, updateUser, type ApiError } from "../api.ts";
import type { Role, User } from "../types.ts";
import { Dialog } from "./dialog.tsx";
import { ErrorList, fieldError } from "./errors.tsx";
import { Field } from "./field.tsx";
import { FormActions } from "./form-actions.tsx";

/** Create a user, or edit one's name, role and client types (admins). */
export function UserDialog(props: { user?: User; onClose: () => void; onSaved: (user: User) => void }) {
  const editing = props.user;
  const [email, setEmail] = useState(editing?.email ?? "");
  const [name, setName] = useState(editing?.name ?? "");
  const [role, setRole] = useState<Role>(editing?.role ?? "MEMBER");
  const [clientTypes, setClientTypes] = useState((editing?.clientTypes ?? []).join(", "));
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const types = clientTypes.split(/[\s,]+/).filter((t) => t !== "");
    const cleanName = name.trim() === "" ? null : name;
    setBusy(true);
    const result = editing
      ? await updateUser(editing.id, { name: cleanName, role, clientTypes: types })
      : await createUser({ email, name: cleanName, role, clientTypes: types });
    setBusy(false);
    if (!result.ok) return setErrors(result.errors);
    props.onSaved(result.data);
    props.onClose();
  };

  return (
    <Dialog title={editing ? `Edit ${editing.email}` : "Create a user"} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        {editing ? null : (
          <Field id="user-email" label="Email" error={fieldError(errors, "email")}>
            {(a11y) => <input {...a11y} type="email" required autoComplete="off" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}
          </Field>
        )}
        <Field id="user-name" label="Name (optional)" error={fieldError(errors, "name")}>
          {(a11y) => <input {...a11y} type="text" value={name} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field id="user-role" label="Role" error={fieldError(errors, "role")} hint="Admins' keys may hold keys:admin and manage everyone.">
          {(a11y) => (
            <select {...a11y} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
              <option value="MEMBER">Member</option>
              <option value="ADMIN">Admin</option>
            </select>
          )}
        </Field>
        <Field id="user-client-types" label="Client types" error={fieldError(errors, "clientTypes")} hint="Separated by commas: the client types this user may give their own keys, e.g. mobile, partner.">
          {(a11y) => <input {...a11y} type="text" value={clientTypes} onInput={(e) => setClientTypes(e.currentTarget.value)} />}
        </Field>
        <ErrorList errors={errors} shownFields={["email", "name", "role", "clientTypes"]} />
        <FormActions onCancel={props.onClose} busy={busy} label={editing ? "Save changes" : "Create user"} busyLabel="Saving…" />
      </form>
    </Dialog>
  );
}
