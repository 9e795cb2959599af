// What the signed-in key may do, from `me`: the server decides, this only shows it.
import { ADMIN_SCOPE, SELF_SCOPE } from "./constants.ts";
import type { Caller } from "./types.ts";

export interface Capabilities {
  /** keys:self: manage one's own keys. */
  self: boolean;
  /** keys:admin on a key of an ADMIN user (SPEC §6: it counts only then). */
  admin: boolean;
  /** In plain words, for the header. */
  summary: string[];
}

export function capabilitiesOf(caller: Caller): Capabilities {
  const scopes = caller.apiKey.scopes;
  const self = scopes.includes(SELF_SCOPE);
  // The server says whether the key has admin power (keys:admin on an ADMIN's key, read afresh).
  const admin = caller.grantable.unrestricted;
  const summary: string[] = [];
  if (admin) summary.push("Manage every user, every key and read the whole audit log.");
  if (self) summary.push("Create, rotate, switch off and revoke your own keys.");
  if (!self && !admin) summary.push("Nothing in this console: the key holds neither keys:self nor keys:admin.");
  if (scopes.includes(ADMIN_SCOPE) && caller.user.role !== "ADMIN") summary.push("keys:admin does not count: the key's owner is not an admin.");
  const others = caller.grantable.scopes.filter((s) => s !== SELF_SCOPE && s !== ADMIN_SCOPE);
  if (!admin && others.length > 0) summary.push(`Give new keys up to these scopes: ${others.join(", ")}.`);
  const { maxRateLimit, latestExpiresAt } = caller.grantable;
  if (!admin && self && maxRateLimit) summary.push(`Give new keys at most ${maxRateLimit.limit} requests per ${maxRateLimit.windowSeconds} s.`);
  if (!admin && self && latestExpiresAt) summary.push("Give new keys an expiry no later than this key's own.");
  return { self, admin, summary };
}
