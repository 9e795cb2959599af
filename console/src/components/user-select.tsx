import type { User } from "../types.ts";

/** A user filter: any user, or one of the known users (an id from the URL shows as itself). */
export function UserSelect(props: {
  a11y: { id: string; "aria-describedby"?: string; "aria-invalid"?: true };
  users: readonly User[];
  value: string | undefined;
  onChange: (userId: string | undefined) => void;
}) {
  const known = props.users.some((u) => u.id === props.value);
  return (
    <select {...props.a11y} value={props.value ?? ""} onChange={(e) => props.onChange(e.currentTarget.value || undefined)}>
      <option value="">Any user</option>
      {props.value && !known ? <option value={props.value}>{props.value}</option> : null}
      {props.users.map((u) => (
        <option key={u.id} value={u.id}>
          {u.email}
        </option>
      ))}
    </select>
  );
}
