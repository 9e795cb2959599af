import { useState } from "preact/hooks";
import { createKey, type ApiError } from "../api.ts";
import { emptyKeyForm, createInput, type KeyFormValues } from "../key-form.ts";
import type { ApiKey, Caller, User } from "../types.ts";
import { Dialog } from "./dialog.tsx";
import { ErrorList } from "./errors.tsx";
import { FormActions } from "./form-actions.tsx";
import { KEY_FORM_FIELDS, KeyFormFields } from "./key-form-fields.tsx";
import { SecretReveal } from "./secret-reveal.tsx";

/**
 * "Create a key": the form, then the secret once. `owner` is the signed-in user, or (admins)
 * the user the key is issued to. The secret stays in this dialog's state and goes with it.
 */
export function CreateKeyDialog(props: { caller: Caller; admin: boolean; owner: User; onClose: () => void; onCreated: (key: ApiKey) => void }) {
  const { caller, admin, owner } = props;
  const [values, setValues] = useState<KeyFormValues>(() => emptyKeyForm(owner.clientTypes, admin ? undefined : caller.grantable));
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);
  const [issued, setIssued] = useState<{ secret: string; apiKey: ApiKey } | null>(null);
  const forOther = owner.id !== caller.user.id;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const result = await createKey(createInput(values, Date.now(), forOther ? owner.id : undefined));
    setBusy(false);
    if (!result.ok) return setErrors(result.errors);
    setErrors([]);
    setIssued(result.data);
  };

  const finish = () => {
    const key = issued!.apiKey;
    setIssued(null);
    props.onCreated(key);
    props.onClose();
  };

  if (issued) {
    return (
      <Dialog title={`Key “${issued.apiKey.name}” created`} onClose={finish} locked wide>
        <SecretReveal secret={issued.secret} what={`Give this secret to whoever will use “${issued.apiKey.name}”.`} onDone={finish} />
      </Dialog>
    );
  }
  return (
    <Dialog title={forOther ? `Issue a key to ${owner.email}` : "Create a key"} onClose={props.onClose} wide>
      <form onSubmit={submit} noValidate>
        <KeyFormFields
          values={values}
          onChange={(update) => {
            setValues(update);
            setErrors([]);
          }}
          errors={errors}
          options={{ mode: "create", caller, admin, clientTypes: owner.clientTypes, scopes: caller.grantable.scopes }}
        />
        <ErrorList errors={errors} shownFields={KEY_FORM_FIELDS} />
        <FormActions onCancel={props.onClose} busy={busy} label="Create key" busyLabel="Creating…" />
      </form>
    </Dialog>
  );
}
