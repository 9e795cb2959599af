export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

/** `{ field: { from, to } }` for each field that really changes, as the audit trail records it. */
export function changedFields<T extends object>(before: T, changes: Partial<T>): FieldChanges {
  const diff: FieldChanges = {};
  for (const [field, to] of Object.entries(changes)) {
    const from = before[field as keyof T];
    if (JSON.stringify(from) !== JSON.stringify(to)) diff[field] = { from: jsonable(from), to: jsonable(to) };
  }
  return diff;
}

const jsonable = (value: unknown) => (value instanceof Date ? value.toISOString() : (value ?? null));
