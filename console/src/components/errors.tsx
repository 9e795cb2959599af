import type { ApiError } from "../api.ts";

/** Errors not tied to a field the form shows: the server's own message, in a live region. */
export function ErrorList(props: { errors: readonly ApiError[]; shownFields?: readonly string[] }) {
  const shown = new Set(props.shownFields ?? []);
  const rest = props.errors.filter((e) => !e.field || !shown.has(e.field));
  if (rest.length === 0) return null;
  return (
    <div class="error-box" role="alert">
      {rest.map((e, i) => (
        <p key={i}>
          {e.message}
          {e.reason || e.code ? <span class="error-code"> ({e.reason ?? e.code})</span> : null}
        </p>
      ))}
    </div>
  );
}

/** The message of the error that names `field`, if any. */
export function fieldError(errors: readonly ApiError[], field: string): string | undefined {
  return errors.find((e) => e.field === field || e.field?.startsWith(`${field}.`))?.message;
}
