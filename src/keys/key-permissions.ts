import type { Principal } from "../auth/principal.ts";
import { ADMIN_SCOPE, SELF_SCOPE } from "../auth/credential.ts";
import type { ApiKeyRow, UserRow } from "../db/schema/index.ts";
import { InputError, NotFoundError, PermissionError } from "../errors.ts";
import type { RateLimitPolicy } from "../limits/rate-limit.ts";
import { describeRateLimit, effectiveRateLimit, expiresWithin, rateLimitOfRow, rateLimitWithin, scopesBeyond } from "./key-powers.ts";

/**
 * No escalation, in any dimension (SPEC §6). Without admin power a key may give (create, update)
 * only what it holds itself, and may manage (update, rotate, revoke) only keys that hold nothing
 * it lacks — "could this key have made that one?": its scopes, a client type it may give or its
 * own, an expiry no later than its own, a rate limit no higher. Every key-service operation
 * asks here; nothing else decides.
 */

/** What the check needs besides the principal: the time, and what `rateLimit: null` means. */
export interface PermissionContext {
  now: number;
  defaultRateLimit: RateLimitPolicy;
}

/** What a create or an update gives a key; absent fields are not given (an update leaves them). */
export interface Grant {
  scopes?: readonly string[];
  clientType?: string;
  /** null: never expires. */
  expiresAt?: Date | null;
  /** null: the server default. */
  rateLimit?: RateLimitPolicy | null;
}

/** The key to be made or changed holds only what the calling key holds; keys:admin only ever goes to ADMIN owners. */
export function checkGrant(principal: Principal, owner: UserRow, grant: Grant, context: PermissionContext): void {
  const { scopes, clientType } = grant;
  if (scopes?.includes(ADMIN_SCOPE) && owner.role !== "ADMIN") {
    throw new PermissionError("scopes", "SCOPE_NOT_GRANTABLE", `Only keys of ADMIN users may hold ${ADMIN_SCOPE}.`);
  }
  if (principal.admin) return;
  const caller = callerOf(principal, context);
  const beyond = scopesBeyond(scopes ?? [], caller.scopes);
  if (beyond.length > 0) {
    throw new PermissionError("scopes", "SCOPE_NOT_GRANTABLE", `You can only give scopes your own key holds; not ${quoted(beyond)}.`);
  }
  if (clientType !== undefined && !owner.clientTypes.includes(clientType)) {
    const allowed = owner.clientTypes.length > 0 ? quoted(owner.clientTypes) : "none (ask an admin)";
    throw new PermissionError("clientType", "CLIENT_TYPE_NOT_GRANTABLE", `Client type '${clientType}' is not allowed for your keys; allowed: ${allowed}.`);
  }
  if (grant.expiresAt !== undefined && !expiresWithin(grant.expiresAt?.getTime() ?? null, caller.expiresAt)) {
    const until = new Date(caller.expiresAt!).toISOString();
    throw new PermissionError(
      "expiresAt",
      "EXPIRY_NOT_GRANTABLE",
      `Your key stops working at ${until}; a key you give or change must expire no later: give expiresAt at or before ${until}.`,
    );
  }
  if (grant.rateLimit !== undefined && !rateLimitWithin(effectiveRateLimit(grant.rateLimit, context.defaultRateLimit), caller.rateLimit)) {
    const asked = grant.rateLimit === null ? `The server default (${describeRateLimit(context.defaultRateLimit)})` : describeRateLimit(grant.rateLimit);
    throw new PermissionError(
      "rateLimit",
      "RATE_LIMIT_NOT_GRANTABLE",
      `${asked} is more than your key's ${describeRateLimit(caller.rateLimit)}: give rateLimit a limit of at most ${caller.rateLimit.limit} and a window of at least ${caller.rateLimit.windowSeconds} s.`,
    );
  }
}

/**
 * Without admin power a key may update, rotate or revoke only keys that hold nothing it lacks:
 * otherwise a weak key could rotate a strong one and receive its secret, or take a strong key
 * away from its holder. A key holds as much as itself, so it may manage itself — except through
 * an old secret in a rotation's grace period, which stops sooner than the key: a leaked secret
 * must not rotate the key again and receive the new one.
 */
export function checkKeyManageable(principal: Principal, key: ApiKeyRow, owner: UserRow, context: PermissionContext): void {
  if (principal.admin) return;
  const caller = callerOf(principal, context);
  const beyond = scopesBeyond(key.scopes, caller.scopes);
  if (beyond.length > 0) throw notManageable(`This key holds ${quoted(beyond)}, which your key does not`);
  if (key.clientType !== caller.clientType && !owner.clientTypes.includes(key.clientType)) {
    throw notManageable(`This key has client type '${key.clientType}', which your key could not give`);
  }
  if (!expiresWithin(key.expiresAt?.getTime() ?? null, caller.expiresAt)) {
    throw notManageable(`This key ${key.expiresAt ? `expires at ${key.expiresAt.toISOString()}` : "never expires"}, later than your key stops working`);
  }
  const limit = effectiveRateLimit(rateLimitOfRow(key), context.defaultRateLimit);
  if (!rateLimitWithin(limit, caller.rateLimit)) {
    throw notManageable(`This key's rate limit (${describeRateLimit(limit)}) is more than your key's (${describeRateLimit(caller.rateLimit)})`);
  }
}

/**
 * Life and the switch, for updates without admin power: an expired key stays expired (a new
 * expiry would bring it back), and a key an admin switched off stays off.
 */
export function checkRevival(principal: Principal, key: ApiKeyRow, change: { expiresAt?: Date | null; active?: boolean }, now: number): void {
  if (principal.admin) return;
  if (change.expiresAt !== undefined && key.expiresAt && key.expiresAt.getTime() <= now) {
    throw new PermissionError("expiresAt", "EXPIRED_KEY_FINAL");
  }
  if (change.active === true && !key.active && key.switchedOffBy === "ADMIN") {
    throw new PermissionError("active", "SWITCHED_OFF_BY_ADMIN");
  }
}

/**
 * What `active` in an update writes: who switched the key off is kept, so that the owner cannot
 * turn an admin's switch-off into their own (by switching it off again) and then undo it.
 */
export function switchChange(principal: Principal, key: ApiKeyRow, active: boolean): Pick<ApiKeyRow, "active" | "switchedOffBy"> {
  if (active) return { active: true, switchedOffBy: null };
  if (principal.admin) return { active: false, switchedOffBy: "ADMIN" };
  return { active: false, switchedOffBy: key.active ? "OWNER" : key.switchedOffBy };
}

/** Whose keys a non-admin may issue: their own only. */
export function checkOwnerChoice(principal: Principal, userId: string | null | undefined): string {
  if (principal.admin) {
    const target = userId ?? principal.userId;
    if (!target) throw new InputError("userId", "Say which user the key is for.");
    return target;
  }
  if (userId && userId !== principal.userId) {
    throw new PermissionError("userId", "USER_NOT_ALLOWED", "Only admins can issue keys to other users.");
  }
  return principal.userId!;
}

/** Others' keys do not exist for you: the same NotFoundError as an id that does not exist. */
export function checkKeyVisible(principal: Principal, key: { userId: string } | undefined): asserts key {
  if (!key || (!principal.admin && key.userId !== principal.userId)) throw new NotFoundError("No API key has this id.");
}

/**
 * Every path to a key list is guarded alike (SPEC §6): a user's own keys need keys:self, as
 * myApiKeys does; anyone else's need admin power, as apiKeys does. It is checked here, where
 * keys are listed, because the rule is an "or" that a `@requiresKey` (all must hold) cannot say,
 * and admin power is the owner's role, read at each request. Others' keys do not exist for
 * you: "hidden" lists nothing.
 */
export function checkKeyListVisible(principal: Principal, userId: string): "visible" | "hidden" {
  if (principal.admin) return "visible";
  if (userId !== principal.userId) return "hidden";
  if (principal.scopes?.has(SELF_SCOPE)) return "visible";
  throw new PermissionError("", "SCOPE_MISSING", `Listing your keys requires scope '${SELF_SCOPE}', which this key does not hold.`);
}

export function checkAdmin(principal: Principal): void {
  if (!principal.admin) throw new PermissionError("", "ADMIN_REQUIRED", "This needs admin power (keys:admin on a key of an ADMIN user).");
}

/**
 * What a principal may give a key of `owner` (create, update): the same bounds checkGrant
 * enforces, stated up front so that a client (the console) can offer only what will pass.
 * Admin power is unrestricted; `scopes` then lists the calling key's own as suggestions.
 */
export interface Grantable {
  unrestricted: boolean;
  scopes: string[];
  clientTypes: string[];
  /** The latest expiry a given key may have; null: any date, or none. */
  latestExpiresAt: Date | null;
  /** The highest rate limit a given key may have; null: any. */
  maxRateLimit: RateLimitPolicy | null;
  /** Whether `rateLimit: null` (the server default) is within maxRateLimit. */
  defaultRateLimitGrantable: boolean;
}

export function grantableBy(principal: Principal, owner: UserRow, context: PermissionContext): Grantable {
  const ownScopes = [...(principal.scopes ?? [])].filter((scope) => scope !== ADMIN_SCOPE || owner.role === "ADMIN").sort();
  if (principal.admin) {
    return { unrestricted: true, scopes: ownScopes, clientTypes: [...owner.clientTypes], latestExpiresAt: null, maxRateLimit: null, defaultRateLimitGrantable: true };
  }
  const caller = callerOf(principal, context);
  return {
    unrestricted: false,
    scopes: ownScopes,
    clientTypes: [...owner.clientTypes],
    latestExpiresAt: caller.expiresAt === null ? null : new Date(caller.expiresAt),
    maxRateLimit: caller.rateLimit,
    defaultRateLimitGrantable: rateLimitWithin(context.defaultRateLimit, caller.rateLimit),
  };
}

/** The calling key in every dimension; a principal without admin power is always a key. */
function callerOf(principal: Principal, context: PermissionContext) {
  const key = principal.callingKey;
  if (!key || !principal.scopes) throw new Error("a principal without admin power must be a key");
  return { scopes: principal.scopes, clientType: key.clientType, expiresAt: key.expiresAt, rateLimit: effectiveRateLimit(key.rateLimit, context.defaultRateLimit) };
}

function notManageable(why: string): PermissionError {
  return new PermissionError("id", "KEY_NOT_MANAGEABLE", `${why}; use a key that holds as much, or ask an admin.`);
}

const quoted = (items: readonly string[]) => items.map((s) => `'${s}'`).join(", ");
