import { useEffect, useState } from "preact/hooks";

/** Copies text to the clipboard and says so for a moment; on failure, says how to copy by hand. */
export function CopyButton(props: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state !== "copied") return;
    const timer = setTimeout(() => setState("idle"), 2000);
    return () => clearTimeout(timer);
  }, [state]);
  const copy = () => {
    navigator.clipboard.writeText(props.text).then(
      () => setState("copied"),
      () => setState("failed"),
    );
  };
  return (
    <span class="copy">
      <button type="button" onClick={copy}>
        {props.label ?? "Copy"}
      </button>
      <span role="status" class="copy-status">
        {state === "copied" ? "Copied" : state === "failed" ? "Could not copy: select the text and press Ctrl+C" : ""}
      </span>
    </span>
  );
}
