import { keyBadges } from "../key-status.ts";
import type { ApiKeyStatus } from "../types.ts";

/** A key's badges as words (with a colour as well, never instead). */
export function StatusBadges(props: { apiKey: { status: ApiKeyStatus; expiresAt: string | null; lastUsedAt: string | null }; now: number }) {
  return (
    <ul class="badges" aria-label="Status">
      {keyBadges(props.apiKey, props.now).map((b) => (
        <li key={b.label} class={`badge badge-${b.tone}`} title={b.description}>
          {b.label}
        </li>
      ))}
    </ul>
  );
}

/** A plain badge for other things with a state (a user's role, a disabled user). */
export function Badge(props: { tone: "ok" | "off" | "bad" | "warn" | "info"; label: string }) {
  return <span class={`badge badge-${props.tone}`}>{props.label}</span>;
}
