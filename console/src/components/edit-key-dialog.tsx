import { useState } from "preact/hooks";
import { updateKey, type ApiError } from "../api.ts";
import { keyFormOf, updateInput, type KeyFormValues } from "../key-form.ts";
import type { ApiKey, Caller } from "../types.ts";
import { Dialog } from "./dialog.tsx";
import { ErrorList } from "./errors.tsx";
import { FormActions } from "./form-actions.tsx";
import { KEY_FORM_FIELDS, KeyFormFields } from "./key-form-fields.tsx";

/** "Edit key": name, description, client type, scopes, expiry, rate limit; only changes are sent. */
export function EditKeyDialog(props: { caller: Caller; admin: boolean; apiKey: ApiKey; ownerClientTypes: readonly string[]; onClose: () => void; onSaved: () => void }) {
  const { caller, admin, apiKey } = props;
  const [values, setValues] = useState<KeyFormValues>(() => keyFormOf(apiKey));
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const input = updateInput(values, apiKey, Date.now());
    if (Object.keys(input).length === 0) return props.onClose();
    setBusy(true);
    const result = await updateKey(apiKey.id, input);
    setBusy(false);
    if (!result.ok) return setErrors(result.errors);
    props.onSaved();
    props.onClose();
  };

  const scopes = [...new Set([...caller.grantable.scopes, ...apiKey.scopes])].sort();
  return (
    <Dialog title={`Edit “${apiKey.name}”`} onClose={props.onClose} wide>
      <form onSubmit={submit} noValidate>
        <KeyFormFields
          values={values}
          onChange={(update) => {
            setValues(update);
            setErrors([]);
          }}
          errors={errors}
          options={{ mode: "edit", caller, admin, clientTypes: props.ownerClientTypes, scopes, currentExpiresAt: apiKey.expiresAt }}
        />
        <ErrorList errors={errors} shownFields={KEY_FORM_FIELDS} />
        <FormActions onCancel={props.onClose} busy={busy} label="Save changes" busyLabel="Saving…" />
      </form>
    </Dialog>
  );
}
