import { GraphQLError } from "graphql";

/** `extensions.code` values Keyscope answers with. */
export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  BAD_USER_INPUT: "BAD_USER_INPUT",
  NOT_FOUND: "NOT_FOUND",
  RATE_LIMITED: "RATE_LIMITED",
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Why a presented key did not authenticate the request (SPEC §4). */
export type KeyFailureReason =
  | "KEY_MALFORMED"
  | "KEY_INVALID"
  | "KEY_EXPIRED"
  | "KEY_REVOKED"
  | "KEY_DISABLED"
  | "AMBIGUOUS_KEY";

/** Plain-English messages; none ever contains a key. */
const keyFailureMessages: Record<KeyFailureReason, string> = {
  KEY_MALFORMED: "The API key is not in a valid format. Check that it was copied whole.",
  KEY_INVALID: "The API key is not recognised.",
  KEY_EXPIRED: "The API key has expired.",
  KEY_REVOKED: "The API key has been revoked.",
  KEY_DISABLED: "The API key is disabled, or its owner is.",
  AMBIGUOUS_KEY: "The request carries more than one API key. Send exactly one.",
};

export const WWW_AUTHENTICATE = 'ApiKey realm="keyscope", header="X-API-Key"';

/** A presented key was refused: 401 for the whole request. */
export function keyRejected(reason: KeyFailureReason): GraphQLError {
  return new GraphQLError(keyFailureMessages[reason], {
    extensions: {
      code: ErrorCode.UNAUTHENTICATED,
      reason,
      http: { status: 401, headers: new Map([["www-authenticate", WWW_AUTHENTICATE]]) },
    },
  });
}

/** The key store could not be asked and the key was not in the cache: 503. */
export function keyStoreUnavailable(): GraphQLError {
  return new GraphQLError("API keys cannot be checked right now. Try again shortly.", {
    extensions: {
      code: ErrorCode.SERVICE_UNAVAILABLE,
      reason: "KEY_STORE_UNAVAILABLE",
      http: { status: 503, headers: new Map([["retry-after", "5"]]) },
    },
  });
}

/** No key, and the field needs one: a field error, the rest of the data is returned. */
export function keyMissing(coordinate: string): GraphQLError {
  return new GraphQLError(`${coordinate} requires an API key. Send one in the X-API-Key header.`, {
    extensions: { code: ErrorCode.UNAUTHENTICATED, reason: "KEY_MISSING" },
  });
}

export function clientTypeNotAllowed(coordinate: string, allowed: readonly string[]): GraphQLError {
  return new GraphQLError(`${coordinate} requires a key of client type ${orList(allowed)}.`, {
    extensions: { code: ErrorCode.FORBIDDEN, reason: "CLIENT_TYPE_NOT_ALLOWED" },
  });
}

export function scopeMissing(coordinate: string, missing: readonly string[]): GraphQLError {
  const noun = missing.length === 1 ? "scope" : "scopes";
  return new GraphQLError(`${coordinate} requires ${noun} ${andList(missing)}, which this key does not hold.`, {
    extensions: { code: ErrorCode.FORBIDDEN, reason: "SCOPE_MISSING" },
  });
}

/** Bad input: names the input field and changes nothing. */
export function badUserInput(field: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, field } });
}

export function notFound(what: string): GraphQLError {
  return new GraphQLError(`${what} was not found.`, { extensions: { code: ErrorCode.NOT_FOUND } });
}

const quote = (items: readonly string[]) => items.map((item) => `'${item}'`);
const orList = (items: readonly string[]) => joinWith(quote(items), "or");
const andList = (items: readonly string[]) => joinWith(quote(items), "and");

function joinWith(items: string[], word: string): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} ${word} ${items.at(-1)}`;
}

/** Adds the `RateLimit-*` headers (IETF draft names) for a decision; no array per request. */
export function addRateLimitHeaders(d: { limit: number; remaining: number; resetSeconds: number }, add: (name: string, value: string) => void): void {
  add("ratelimit-limit", String(d.limit));
  add("ratelimit-remaining", String(d.remaining));
  add("ratelimit-reset", String(d.resetSeconds));
}

/** The key is over its rate limit: 429 for the whole request, nothing runs. */
export function rateLimited(d: { limit: number; remaining: number; resetSeconds: number }): GraphQLError {
  const headers = new Map([["retry-after", String(d.resetSeconds)]]);
  addRateLimitHeaders(d, (name, value) => headers.set(name, value));
  return new GraphQLError(`This API key is over its rate limit of ${d.limit} requests. Retry in ${d.resetSeconds} s.`, {
    extensions: {
      code: ErrorCode.RATE_LIMITED,
      http: { status: 429, headers },
    },
  });
}

/** Too many failed key checks from this address: 429 for key-bearing requests. */
export function tooManyFailures(retryAfterSeconds: number): GraphQLError {
  return new GraphQLError(`Too many failed API key checks from this address. Retry in ${retryAfterSeconds} s.`, {
    extensions: {
      code: ErrorCode.RATE_LIMITED,
      reason: "TOO_MANY_FAILED_ATTEMPTS",
      http: { status: 429, headers: new Map([["retry-after", String(retryAfterSeconds)]]) },
    },
  });
}
