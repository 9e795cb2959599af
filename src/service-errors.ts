/**
 * Refusals from services, independent of GraphQL: the GraphQL layer turns them into
 * BAD_USER_INPUT / NOT_FOUND, the CLI into a message and exit code 1.
 */
export class InputError extends Error {
  override name = "InputError";
  /** The input field at fault, e.g. `email` or `input.expiresAt`. */
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** The operation is refused whatever the input (e.g. bootstrap when an admin exists). */
export class ConflictError extends Error {
  override name = "ConflictError";
}
