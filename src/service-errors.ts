/**
 * Refusals from services, independent of GraphQL: the GraphQL layer turns them into
 * BAD_USER_INPUT / FORBIDDEN / NOT_FOUND, the CLI into a message and exit code 1.
 */
export class InputError extends Error {
  override name = "InputError";
  /** The input field at fault, e.g. `email` or `rateLimit.limit`. */
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** The caller may not do this with this input (e.g. grant a scope it does not hold). */
export class PermissionError extends Error {
  override name = "PermissionError";
  constructor(readonly field: string, readonly reason: string, message: string) {
    super(message);
  }
}

/** Also the answer for what exists but is not the caller's: others' keys do not exist for you. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** The operation is refused whatever the input (e.g. bootstrap when an admin exists). */
export class ConflictError extends Error {
  override name = "ConflictError";
}
