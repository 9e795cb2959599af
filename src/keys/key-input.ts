import { NAME_PATTERN } from "./names.ts";
import { InputError } from "../errors.ts";
import { checkText } from "../text-check.ts";
import { isValidImportedValue } from "./key-format.ts";

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
  const trimmed = checkText(field, name, { label: "The name", maxLength: KEY_LIMITS.nameLength });
  if (trimmed === "") throw new InputError(field, "The name must not be blank.");
  return trimmed;
}

/** Trimmed; blank means none. Line feeds and tabs are allowed. */
export function checkDescription(field: string, description: string | null | undefined): string | null {
  if (description === undefined || description === null) return null;
  const trimmed = checkText(field, description, { label: "The description", maxLength: KEY_LIMITS.descriptionLength, multiline: true });
  return trimmed === "" ? null : trimmed;
}

export function checkClientType(field: string, clientType: string): string {
  return checkPatternName(field, clientType, "client type");
}

export function checkScopes(field: string, scopes: readonly string[] | null | undefined): string[] {
  return checkNameList(field, scopes, { max: KEY_LIMITS.scopes, holder: "A key holds", noun: "scope" });
}

/** A set of client types or scopes: unique, sorted, each in the pattern (SPEC §1). */
export function checkNameList(field: string, names: readonly string[] | null | undefined, rules: { max: number; holder: string; noun: string }): string[] {
  const list = [...new Set(names ?? [])];
  if (list.length > rules.max) throw new InputError(field, `${rules.holder} at most ${rules.max} ${rules.noun}s.`);
  for (const name of list) checkPatternName(field, name, rules.noun);
  return list.sort();
}

function checkPatternName(field: string, name: string, noun: string): string {
  checkText(field, name, { label: `A ${noun}`, maxLength: 64, keepWhitespace: true });
  if (!NAME_PATTERN.test(name)) throw new InputError(field, `A ${noun} is 1 to 64 letters, digits or . _ : - (no blanks).`);
  return name;
}

/** SPEC §2: an imported key's value. Messages never repeat it. */
export function checkImportedValue(field: string, value: string, keyPrefix: string): string {
  checkText(field, value, { label: "An imported key", maxLength: 256, keepWhitespace: true });
  if (!isValidImportedValue(value)) {
    throw new InputError(field, "An imported key is 16 to 256 characters without blanks or control characters.");
  }
  if (value.startsWith(`${keyPrefix}_`)) {
    throw new InputError(field, `An imported key must not begin with this server's prefix '${keyPrefix}_'.`);
  }
  return value;
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
