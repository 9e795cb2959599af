import { useState } from "preact/hooks";
import { rotateKey, type ApiError } from "../api.ts";
import { GRACE_PERIODS } from "../constants.ts";
import type { ApiKey } from "../types.ts";
import { Dialog } from "./dialog.tsx";
import { ErrorList } from "./errors.tsx";
import { FormActions } from "./form-actions.tsx";
import { FieldSet } from "./field.tsx";
import { SecretReveal } from "./secret-reveal.tsx";

/** Rotate: choose how long the old secret keeps working, then see the new secret once. */
export function RotateKeyDialog(props: { apiKey: ApiKey; onClose: () => void; onRotated: () => void }) {
  const [grace, setGrace] = useState<number>(GRACE_PERIODS[0].seconds);
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const result = await rotateKey(props.apiKey.id, grace);
    setBusy(false);
    if (!result.ok) return setErrors(result.errors);
    setSecret(result.data.secret);
  };

  const finish = () => {
    setSecret(null);
    props.onRotated();
    props.onClose();
  };

  if (secret) {
    const chosen = GRACE_PERIODS.find((g) => g.seconds === grace)!;
    return (
      <Dialog title={`“${props.apiKey.name}” rotated`} onClose={finish} locked>
        <SecretReveal secret={secret} what={`The new secret replaces the old one; ${chosen.hint}.`} onDone={finish} />
      </Dialog>
    );
  }
  return (
    <Dialog title={`Rotate “${props.apiKey.name}”`} onClose={props.onClose}>
      <form onSubmit={submit}>
        <p>The key keeps its id, settings and usage; it gets a new secret.</p>
        <FieldSet id="grace" legend="When does the old secret stop working?" error={errors.find((e) => e.field === "gracePeriodSeconds")?.message}>
          <div class="checks">
            {GRACE_PERIODS.map((g) => (
              <div class="check" key={g.seconds}>
                <input id={`grace-${g.seconds}`} type="radio" name="grace" checked={grace === g.seconds} onChange={() => setGrace(g.seconds)} />
                <label for={`grace-${g.seconds}`}>
                  {g.label} <span class="muted">({g.hint})</span>
                </label>
              </div>
            ))}
          </div>
        </FieldSet>
        <ErrorList errors={errors} shownFields={["gracePeriodSeconds"]} />
        <FormActions onCancel={props.onClose} busy={busy} label="Rotate key" busyLabel="Rotating…" />
      </form>
    </Dialog>
  );
}
