import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";

/**
 * A modal on the native <dialog>; a dialog with two steps (form, then secret) stays one dialog,
 * so that focus returns to what opened it: the browser traps focus, Escape cancels, focus returns to
 * where it was. `locked` keeps it open (Escape too) until the person has done what it asks.
 */
export function Dialog(props: { title: string; onClose: () => void; locked?: boolean; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = `dialog-${useId()}`;
  // The latest props, for the cancel listener added once.
  const latest = useRef(props);
  latest.current = props;
  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    const cancel = (event: Event) => {
      event.preventDefault();
      if (!latest.current.locked) latest.current.onClose();
    };
    dialog.addEventListener("cancel", cancel);
    return () => {
      dialog.removeEventListener("cancel", cancel);
      dialog.close();
      // After the browser's own focus fix-up for the removed dialog, so that focus lands back on the opener.
      setTimeout(() => {
        if (opener?.isConnected) opener.focus();
      }, 0);
    };
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} class={props.wide ? "dialog dialog-wide" : "dialog"}>
      <div class="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        {props.locked ? null : (
          <button type="button" class="button-quiet" onClick={props.onClose} aria-label="Close">
            ×
          </button>
        )}
      </div>
      <div class="dialog-body">{props.children}</div>
    </dialog>
  );
}
