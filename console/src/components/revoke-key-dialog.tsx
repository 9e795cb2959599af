import { useState } from "preact/hooks";
import { revokeKey, type ApiError } from "../api.ts";
import type { ApiKey } from "../types.ts";
import { Dialog } from "./dialog.tsx";
import { ErrorList } from "./errors.tsx";
import { FormActions } from "./form-actions.tsx";

/** Revoke for good, confirmed by typing the key's name. */
export function RevokeKeyDialog(props: { apiKey: ApiKey; onClose: () => void; onRevoked: () => void }) {
  const [typed, setTyped] = useState("");
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);
  const matches = typed === props.apiKey.name;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!matches) return;
    setBusy(true);
    const result = await revokeKey(props.apiKey.id);
    setBusy(false);
    if (!result.ok) return setErrors(result.errors);
    props.onRevoked();
    props.onClose();
  };

  return (
    <Dialog title={`Revoke “${props.apiKey.name}”`} onClose={props.onClose}>
      <form onSubmit={submit}>
        <p class="warning">Revoking is final: every secret of this key stops working at once, and it cannot be switched on again.</p>
        <div class="field">
          <label for="revoke-confirm">Type the key's name to confirm: {props.apiKey.name}</label>
          <input id="revoke-confirm" type="text" autoComplete="off" spellcheck={false} value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </div>
        <ErrorList errors={errors} />
        <FormActions onCancel={props.onClose} busy={busy} disabled={!matches} danger label="Revoke key" busyLabel="Revoking…" />
      </form>
    </Dialog>
  );
}
