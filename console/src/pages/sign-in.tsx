import { useState } from "preact/hooks";
import { signInWith, type ApiError } from "../api.ts";
import { ErrorList } from "../components/errors.tsx";
import { storeKey } from "../session.ts";
import type { Caller } from "../types.ts";

/** Sign in by pasting a key. It is checked with `me` first and stored (sessionStorage) only if it works. */
export function SignIn(props: { onSignedIn: (caller: Caller) => void; notice?: ApiError[] | undefined }) {
  const [key, setKey] = useState("");
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const candidate = key.trim();
    if (candidate === "") return setErrors([{ message: "Paste an API key first." }]);
    setBusy(true);
    const result = await signInWith(candidate);
    setBusy(false);
    if (!result.ok) return setErrors(result.errors);
    storeKey(candidate);
    setKey("");
    props.onSignedIn(result.data);
  };

  return (
    <main id="main" class="sign-in">
      <h1>Keyscope console</h1>
      <p>Sign in with an API key. The console can do exactly what that key may do through the GraphQL API, and nothing more.</p>
      {props.notice && props.notice.length > 0 ? (
        <div class="notice" role="status">
          <p>You were signed out: the server no longer accepts the key.</p>
          <ErrorList errors={props.notice} />
        </div>
      ) : null}
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="sign-in-key">API key</label>
          <input
            id="sign-in-key"
            class="secret masked"
            type="text"
            autoComplete="off"
            autoCapitalize="off"
            spellcheck={false}
            aria-describedby="sign-in-hint"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
          <p id="sign-in-hint" class="hint">
            Kept in this tab's session storage only, and forgotten when you sign out or close the tab.
          </p>
        </div>
        <ErrorList errors={errors} />
        <div class="actions">
          <button type="submit" class="button-primary" disabled={busy}>
            {busy ? "Checking…" : "Sign in"}
          </button>
        </div>
      </form>
    </main>
  );
}
