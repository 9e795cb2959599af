import { GraphQLError, type GraphQLErrorOptions } from "graphql";
import { connectionFailureCode } from "./db/connection-failure.ts";

/**
 * Keyscope's one vocabulary of refusals, below every layer: services throw the classes below,
 * the request path builds GraphQLErrors from the table, and `classify` turns either into what a
 * GraphQL response or the CLI shows. Messages are plain English and never contain a key.
 */

/** `extensions.code` values Keyscope answers with. */
export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  BAD_USER_INPUT: "BAD_USER_INPUT",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  RATE_LIMITED: "RATE_LIMITED",
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  BAD_REQUEST: "BAD_REQUEST",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  QUERY_TOO_COSTLY: "QUERY_TOO_COSTLY",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Every `extensions.reason`, with its code and HTTP status (200: a field error, the rest of the
 * data is returned). `message` is the whole message, or the default for reasons whose message
 * names a field or a scope.
 */
export const REASONS = {
  // A presented key that fails fails the whole request (SPEC §4).
  KEY_MALFORMED: { code: ErrorCode.UNAUTHENTICATED, status: 401, message: "The API key is not in a valid format. Check that it was copied whole." },
  KEY_INVALID: { code: ErrorCode.UNAUTHENTICATED, status: 401, message: "The API key is not recognised." },
  KEY_EXPIRED: { code: ErrorCode.UNAUTHENTICATED, status: 401, message: "The API key has expired." },
  KEY_REVOKED: { code: ErrorCode.UNAUTHENTICATED, status: 401, message: "The API key has been revoked." },
  KEY_DISABLED: { code: ErrorCode.UNAUTHENTICATED, status: 401, message: "The API key is disabled, or its owner is." },
  AMBIGUOUS_KEY: { code: ErrorCode.UNAUTHENTICATED, status: 401, message: "The request carries more than one API key. Send exactly one." },
  // Also a management operation whose database is unreachable (db/connection-failure.ts).
  KEY_STORE_UNAVAILABLE: { code: ErrorCode.SERVICE_UNAVAILABLE, status: 503, message: "The key store cannot be reached right now. Try again shortly." },
  TOO_MANY_FAILED_ATTEMPTS: { code: ErrorCode.RATE_LIMITED, status: 429, message: "Too many failed API key checks from this address." },
  // The directive's refusals: one field each.
  KEY_MISSING: { code: ErrorCode.UNAUTHENTICATED, status: 200, message: "This field requires an API key. Send one in the X-API-Key header." },
  CLIENT_TYPE_NOT_ALLOWED: { code: ErrorCode.FORBIDDEN, status: 200, message: "This field requires another client type." },
  SCOPE_MISSING: { code: ErrorCode.FORBIDDEN, status: 200, message: "This field requires a scope this key does not hold." },
  // The services' refusals (no escalation, SPEC §6).
  SCOPE_NOT_GRANTABLE: { code: ErrorCode.FORBIDDEN, status: 200, message: "You can only give scopes your own key holds." },
  CLIENT_TYPE_NOT_GRANTABLE: { code: ErrorCode.FORBIDDEN, status: 200, message: "This client type is not allowed for your keys." },
  USER_NOT_ALLOWED: { code: ErrorCode.FORBIDDEN, status: 200, message: "Only admins can issue keys to other users." },
  EXPIRY_NOT_GRANTABLE: { code: ErrorCode.FORBIDDEN, status: 200, message: "A key you give or change must expire no later than your own key." },
  RATE_LIMIT_NOT_GRANTABLE: { code: ErrorCode.FORBIDDEN, status: 200, message: "A key you give or change must have a rate limit no higher than your own key's." },
  EXPIRED_KEY_FINAL: { code: ErrorCode.FORBIDDEN, status: 200, message: "This key has expired; only an admin can extend it. Issue a new key instead." },
  SWITCHED_OFF_BY_ADMIN: { code: ErrorCode.FORBIDDEN, status: 200, message: "An admin switched this key off; only an admin can switch it on." },
  KEY_NOT_MANAGEABLE: { code: ErrorCode.FORBIDDEN, status: 200, message: "This key holds more than your key does." },
  ADMIN_REQUIRED: { code: ErrorCode.FORBIDDEN, status: 200, message: "This needs admin power (keys:admin on a key of an ADMIN user)." },
  // Refused before execution: nothing runs (SPEC §8, every query's cost bounded before it runs).
  QUERY_COST_EXCEEDED: { code: ErrorCode.QUERY_TOO_COSTLY, status: 400, message: "The query would cost more than this server allows." },
  FIELD_INSIDE_ITSELF: { code: ErrorCode.QUERY_TOO_COSTLY, status: 400, message: "This field cannot be selected inside itself." },
} as const satisfies Record<string, { code: ErrorCode; status: number; message: string }>;

export type Reason = keyof typeof REASONS;
/** Why a presented key did not authenticate the request (SPEC §4). */
export type KeyFailureReason = "KEY_MALFORMED" | "KEY_INVALID" | "KEY_EXPIRED" | "KEY_REVOKED" | "KEY_DISABLED" | "AMBIGUOUS_KEY";
/** Why the directive refused a field. */
export type GuardReason = "KEY_MISSING" | "CLIENT_TYPE_NOT_ALLOWED" | "SCOPE_MISSING";
/** Why a service refused a caller's request. */
export type PermissionReason =
  | "SCOPE_NOT_GRANTABLE"
  | "CLIENT_TYPE_NOT_GRANTABLE"
  | "EXPIRY_NOT_GRANTABLE"
  | "RATE_LIMIT_NOT_GRANTABLE"
  | "EXPIRED_KEY_FINAL"
  | "SWITCHED_OFF_BY_ADMIN"
  | "USER_NOT_ALLOWED"
  | "KEY_NOT_MANAGEABLE"
  | "ADMIN_REQUIRED"
  // A service asks for the scope the matching top-level field needs (every path guarded alike).
  | "SCOPE_MISSING";

// ---- What services throw: independent of GraphQL and HTTP. ----

/** Bad input: names the input field and changes nothing. */
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
  /** `field`: the input field at fault, or "" when the whole operation is refused. */
  constructor(readonly field: string, readonly reason: PermissionReason, message: string = REASONS[reason].message) {
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

// ---- One refusal, as every surface shows it. ----

export interface Classified {
  code: ErrorCode;
  message: string;
  reason?: Reason;
  /** The input field at fault. */
  field?: string;
}

/**
 * What an error means to a client: its code, message, reason and field. An unreachable database
 * is SERVICE_UNAVAILABLE (it comes back by itself); undefined for errors Keyscope does not know
 * (bugs, other broken infrastructure): those are logged and hidden.
 */
export function classify(error: unknown): Classified | undefined {
  if (error instanceof InputError) return { code: ErrorCode.BAD_USER_INPUT, message: error.message, field: error.field };
  if (error instanceof PermissionError) {
    return { code: ErrorCode.FORBIDDEN, message: error.message, reason: error.reason, ...(error.field ? { field: error.field } : {}) };
  }
  if (error instanceof NotFoundError) return { code: ErrorCode.NOT_FOUND, message: error.message };
  if (error instanceof ConflictError) return { code: ErrorCode.CONFLICT, message: error.message };
  if (connectionFailureCode(error) !== undefined) return { code: ErrorCode.SERVICE_UNAVAILABLE, message: REASONS.KEY_STORE_UNAVAILABLE.message, reason: "KEY_STORE_UNAVAILABLE" };
  return undefined;
}

// ---- Refusals of a whole request, before GraphQL runs. ----

export const WWW_AUTHENTICATE = 'ApiKey realm="keyscope", header="X-API-Key"';

/**
 * A whole request refused (401, 429, 503), as a value: the door answers it without building an
 * error (http/door-refusal.ts); `refusalError` makes it the GraphQLError Apollo answers alike.
 */
export interface RequestRefusal {
  status: number;
  message: string;
  extensions: { code: ErrorCode; reason?: Reason };
  /** Names in lower case. */
  headers: readonly (readonly [string, string])[];
}

/** A presented key was refused: 401. */
export function keyRefusal(reason: KeyFailureReason): RequestRefusal {
  return KEY_REFUSALS[reason];
}

// One shared, frozen value per reason (refusalError copies what it keeps).
const KEY_REFUSALS = Object.fromEntries(
  (["KEY_MALFORMED", "KEY_INVALID", "KEY_EXPIRED", "KEY_REVOKED", "KEY_DISABLED", "AMBIGUOUS_KEY"] as const).map((reason) => [
    reason,
    reasonRefusal(reason, REASONS[reason].message, [["www-authenticate", WWW_AUTHENTICATE]]),
  ]),
) as Record<KeyFailureReason, RequestRefusal>;

/** When to try again after a 503 KEY_STORE_UNAVAILABLE. */
export const KEY_STORE_RETRY_AFTER_SECONDS = 5;

/** The key store could not be asked and the key was not in the cache: 503. */
export const KEY_STORE_UNAVAILABLE_REFUSAL: RequestRefusal = reasonRefusal("KEY_STORE_UNAVAILABLE", REASONS.KEY_STORE_UNAVAILABLE.message, [
  ["retry-after", String(KEY_STORE_RETRY_AFTER_SECONDS)],
]);

/** Too many failed key checks from this address: 429 for key-bearing requests. */
export function throttledRefusal(retryAfterSeconds: number): RequestRefusal {
  let refusal = THROTTLED_REFUSALS.get(retryAfterSeconds);
  if (!refusal) {
    refusal = reasonRefusal("TOO_MANY_FAILED_ATTEMPTS", `${REASONS.TOO_MANY_FAILED_ATTEMPTS.message} Retry in ${retryAfterSeconds} s.`, [
      ["retry-after", String(retryAfterSeconds)],
    ]);
    if (THROTTLED_REFUSALS.size >= MAX_THROTTLED_REFUSALS) THROTTLED_REFUSALS.clear();
    THROTTLED_REFUSALS.set(retryAfterSeconds, refusal);
  }
  return refusal;
}

// A flood of guesses gets this answer most: one shared value per wait (as many as the window has
// seconds), so that the door can keep its body ready too (door-refusal.ts).
const THROTTLED_REFUSALS = new Map<number, RequestRefusal>();
const MAX_THROTTLED_REFUSALS = 4096;

/** The key is over its rate limit: 429, nothing runs. SPEC §4 gives no reason. */
export function rateLimitRefusal(d: RateStanding): RequestRefusal {
  const headers: [string, string][] = [["retry-after", String(d.resetSeconds)]];
  addRateLimitHeaders(d, (name, value) => headers.push([name, value]));
  return frozenRefusal({ status: 429, message: `This API key is over its rate limit of ${d.limit} requests. Retry in ${d.resetSeconds} s.`, extensions: { code: ErrorCode.RATE_LIMITED }, headers });
}

/** The GraphQLError for a refusal: Apollo answers a context that throws it with its status and headers. */
export function refusalError(r: RequestRefusal): GraphQLError {
  return refusal(r.message, { extensions: { ...r.extensions, http: { status: r.status, headers: new Map(r.headers) } } });
}

/** A presented key was refused: 401 for the whole request. */
export function keyRejected(reason: KeyFailureReason): GraphQLError {
  return refusalError(keyRefusal(reason));
}

/** A rate-limit standing, as the `RateLimit-*` headers show it. */
export interface RateStanding {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/** Adds the `RateLimit-*` headers (IETF draft names) for a decision; no array per request. */
export function addRateLimitHeaders(d: RateStanding, add: (name: string, value: string) => void): void {
  add("ratelimit-limit", String(d.limit));
  add("ratelimit-remaining", String(d.remaining));
  add("ratelimit-reset", String(d.resetSeconds));
}

function reasonRefusal(reason: Reason, message: string, headers: [string, string][]): RequestRefusal {
  const { code, status } = REASONS[reason];
  return frozenRefusal({ status, message, extensions: { code, reason }, headers });
}

/**
 * Refusals are shared between requests (one per reason, one per wait) and the door keeps each
 * one's body (door-refusal.ts): frozen, so that no one (a library user's code included) can
 * change what later requests are told.
 */
function frozenRefusal(refusal: RequestRefusal): RequestRefusal {
  for (const pair of refusal.headers) Object.freeze(pair);
  Object.freeze(refusal.headers);
  Object.freeze(refusal.extensions);
  return Object.freeze(refusal);
}

/**
 * The query's estimated cost is over the limit: 400, nothing runs. `cost` and `maxCost` are in
 * the extensions, so that a client sees by how much.
 */
export function queryTooCostly(cost: number, maxCost: number): GraphQLError {
  const shown = Number.isFinite(cost) ? String(cost) : "more than can be counted";
  return refusal(
    `The query would cost ${shown}; this server allows ${maxCost}. Each object counts 1, times the size of the lists it is in: ask for smaller pages (first, last) or fewer nested lists.`,
    { extensions: { code: REASONS.QUERY_COST_EXCEEDED.code, reason: "QUERY_COST_EXCEEDED", cost: Number.isFinite(cost) ? cost : null, maxCost, http: { status: 400 } } },
  );
}

/** A field asked for inside itself where that only repeats what is already being read: 400. */
export function fieldInsideItself(coordinate: string, why: string): GraphQLError {
  return refusal(`${coordinate} cannot be selected inside ${coordinate}: ${why}`, {
    extensions: { code: REASONS.FIELD_INSIDE_ITSELF.code, reason: "FIELD_INSIDE_ITSELF", http: { status: 400 } },
  });
}

/**
 * Where in the response a field error belongs. Given, the error is made where graphql-js would
 * put it, and graphql-js passes it on as it is instead of wrapping it in a second GraphQLError
 * (`locatedError`), whose stack capture at the depth of execution is most of what a refused field
 * costs.
 */
export type FieldErrorPlace = Pick<GraphQLErrorOptions, "nodes" | "path">;

/** No key, and the field needs one: a field error, the rest of the data is returned. */
export function keyMissing(coordinate: string, at?: FieldErrorPlace): GraphQLError {
  return fieldError("KEY_MISSING", `${coordinate} requires an API key. Send one in the X-API-Key header.`, at);
}

export function clientTypeNotAllowed(coordinate: string, allowed: readonly string[], at?: FieldErrorPlace): GraphQLError {
  return fieldError("CLIENT_TYPE_NOT_ALLOWED", `${coordinate} requires a key of client type ${orList(allowed)}.`, at);
}

export function scopeMissing(coordinate: string, missing: readonly string[], at?: FieldErrorPlace): GraphQLError {
  const noun = missing.length === 1 ? "scope" : "scopes";
  return fieldError("SCOPE_MISSING", `${coordinate} requires ${noun} ${andList(missing)}, which this key does not hold.`, at);
}

/** `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`. */
export const orList = (items: readonly string[]) => joinWith(quote(items), "or");
export const andList = (items: readonly string[]) => joinWith(quote(items), "and");

function fieldError(reason: GuardReason, message: string, at: FieldErrorPlace | undefined): GraphQLError {
  return refusal(message, { ...at, extensions: { code: REASONS[reason].code, reason } });
}

/**
 * An expected refusal, built without a stack trace: capturing one is most of what a refused
 * request costs (some 40 µs each, 40 times on a response with 40 refused fields), and nobody reads
 * it (responses carry none, and expected refusals are not logged with one).
 */
function refusal(message: string, options: GraphQLErrorOptions): GraphQLError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new GraphQLError(message, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

const quote = (items: readonly string[]) => items.map((item) => `'${item}'`);

function joinWith(items: string[], word: string): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} ${word} ${items.at(-1)}`;
}
