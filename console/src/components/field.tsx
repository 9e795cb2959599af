import type { ComponentChildren } from "preact";

/**
 * A labelled form field with an optional hint and the server's refusal beside it. The input
 * is given as a function of the ids it must point at, so label, hint and error stay linked.
 */
export function Field(props: {
  id: string;
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  children: (a11y: { id: string; "aria-describedby"?: string; "aria-invalid"?: true }) => ComponentChildren;
}) {
  const hintId = props.hint ? `${props.id}-hint` : undefined;
  const errorId = props.error ? `${props.id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div class={props.error ? "field field-invalid" : "field"}>
      <label for={props.id}>{props.label}</label>
      {props.children({ id: props.id, ...(describedBy ? { "aria-describedby": describedBy } : {}), ...(props.error ? { "aria-invalid": true as const } : {}) })}
      {props.hint ? <p id={hintId} class="hint">{props.hint}</p> : null}
      {props.error ? <p id={errorId} class="field-error">{props.error}</p> : null}
    </div>
  );
}

/** A group of checkboxes or radios with a legend, hint and error. */
export function FieldSet(props: { legend: string; hint?: string | undefined; error?: string | undefined; id: string; children: ComponentChildren }) {
  const hintId = props.hint ? `${props.id}-hint` : undefined;
  const errorId = props.error ? `${props.id}-error` : undefined;
  return (
    <fieldset class={props.error ? "field field-invalid" : "field"} aria-describedby={[hintId, errorId].filter(Boolean).join(" ") || undefined}>
      <legend>{props.legend}</legend>
      {props.children}
      {props.hint ? <p id={hintId} class="hint">{props.hint}</p> : null}
      {props.error ? <p id={errorId} class="field-error">{props.error}</p> : null}
    </fieldset>
  );
}
