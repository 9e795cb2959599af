/** A dialog form's buttons: Cancel, and the submit button that says when it is busy. */
export function FormActions(props: { onCancel: () => void; busy: boolean; label: string; busyLabel: string; danger?: boolean; disabled?: boolean }) {
  return (
    <div class="actions">
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      <button type="submit" class={props.danger ? "button-danger" : "button-primary"} disabled={props.busy || props.disabled}>
        {props.busy ? props.busyLabel : props.label}
      </button>
    </div>
  );
}
