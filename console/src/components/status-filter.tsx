import { STATUSES } from "../constants.ts";
import { statusLabel } from "../key-status.ts";
import type { ApiKeyStatus } from "../types.ts";

/** A status filter (any, or one status), for the keys tables. */
export function StatusFilter(props: { id: string; value: ApiKeyStatus | undefined; onChange: (status: ApiKeyStatus | undefined) => void }) {
  return (
    <div class="field">
      <label for={props.id}>Status</label>
      <select id={props.id} value={props.value ?? ""} onChange={(e) => props.onChange((e.currentTarget.value || undefined) as ApiKeyStatus | undefined)}>
        <option value="">Any status</option>
        {STATUSES.map((s) => (
          <option key={s} value={s}>
            {statusLabel(s)}
          </option>
        ))}
      </select>
    </div>
  );
}

export function parseStatus(value: string | null): ApiKeyStatus | undefined {
  return (STATUSES as readonly string[]).includes(value ?? "") ? (value as ApiKeyStatus) : undefined;
}
