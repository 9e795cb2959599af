import { useEffect, useRef, useState } from "preact/hooks";
import { CopyButton } from "./copy-button.tsx";

/**
 * The one time a secret is shown: read-only, with a copy button, and a confirmation that it is
 * stored before the dialog may close. The secret lives only in the dialog's state.
 */
export function SecretReveal(props: { secret: string; what: string; onDone: () => void }) {
  const [stored, setStored] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // The form that was focused is gone: focus the secret, so keyboard and screen reader users start there.
  useEffect(() => input.current?.focus(), []);
  return (
    <div class="secret-reveal">
      <p class="notice" role="status">
        {props.what} This is the only time the secret is shown: Keyscope keeps only a hash of it.
      </p>
      <div class="field">
        <label for="issued-secret">Secret</label>
        <div class="secret-row">
          <input ref={input} id="issued-secret" class="secret" type="text" readOnly value={props.secret} spellcheck={false} autoComplete="off" onFocus={(e) => e.currentTarget.select()} />
          <CopyButton text={props.secret} label="Copy secret" />
        </div>
      </div>
      <div class="check">
        <input id="secret-stored" type="checkbox" checked={stored} onChange={(e) => setStored(e.currentTarget.checked)} />
        <label for="secret-stored">I have stored the secret somewhere safe</label>
      </div>
      <div class="actions">
        <button type="button" class="button-primary" disabled={!stored} onClick={props.onDone}>
          Close
        </button>
      </div>
    </div>
  );
}
