import { NAME_PATTERN } from "./names.ts";
import { InputError } from "../errors.ts";

/** Limits on what a key's settings may hold. */
export const KEY_LIMITS = {
  nameLength: 100,
  descriptionLength: 1000,
  scopes: 50,
  rateLimitMax: 1_000_000,
  windowSecondsMax: 86_400,
} as const;

export interface RateLimitInput {
  limit: number;
  windowSeconds: number;
}

/** Each check throws an InputError naming the field; the caller passes the field's path. */
export function checkName(field: string, name: string): string {
  const trimmed = name.trim();
  if (trimmed === "") throw new InputError(field, "The name must not be blank.");
  if (trimmed.length > KEY_LIMITS.nameLength) throw new InputError(field, `The name must be at most ${KEY_LIMITS.nameLength} characters.`);
  return trimmed;
}

export function checkDescription(field: string, description: string | null | undefined): string | null {
  if (description === undefined || description === null) return null;
  if (description.length > KEY_LIMITS.descriptionLength) {
    throw new InputError(field, `The description must be at most ${KEY_LIMITS.descriptionLength} characters.`);
  }
  return description;
}

export function checkClientType(field: string, clientType: string): string {
  if (!NAME_PATTERN.test(clientType)) {
    throw new InputError(field, "A client type is 1 to 64 letters, digits or . _ : - (no blanks).");
  }
  return clientType;
}

export function checkScopes(field: string, scopes: readonly string[] | null | undefined): string[] {
  const list = [...new Set(scopes ?? [])];
  if (list.length > KEY_LIMITS.scopes) throw new InputError(field, `A key holds at most ${KEY_LIMITS.scopes} scopes.`);
  const bad = list.find((s) => !NAME_PATTERN.test(s));
  if (bad !== undefined) throw new InputError(field, "A scope is 1 to 64 letters, digits or . _ : - (no blanks).");
  return list.sort();
}

export function checkExpiry(field: string, expiresAt: Date | null | undefined, now: number): Date | null {
  if (expiresAt === undefined || expiresAt === null) return null;
  if (expiresAt.getTime() <= now) throw new InputError(field, "The expiry must be in the future.");
  return expiresAt;
}

export function checkRateLimit(field: string, rateLimit: RateLimitInput | null | undefined): RateLimitInput | null {
  if (rateLimit === undefined || rateLimit === null) return null;
  const { limit, windowSeconds } = rateLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > KEY_LIMITS.rateLimitMax) {
    throw new InputError(`${field}.limit`, `The limit must be a whole number from 1 to ${KEY_LIMITS.rateLimitMax}.`);
  }
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > KEY_LIMITS.windowSecondsMax) {
    throw new InputError(`${field}.windowSeconds`, `The window must be from 1 to ${KEY_LIMITS.windowSecondsMax} seconds.`);
  }
  return { limit, windowSeconds };
}
