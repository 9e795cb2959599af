// The values of the create and edit key forms, and how they become API input.
import { DEFAULT_EXPIRY, EXPIRY_CHOICES, type ExpiryChoice } from "./constants.ts";
import type { ApiKey, CreateKeyInput, Grantable, RateLimit, UpdateKeyInput } from "./types.ts";

export interface KeyFormValues {
  name: string;
  description: string;
  clientType: string;
  scopes: string[];
  /** Admins only: more scopes typed by hand, comma- or blank-separated. */
  otherScopes: string;
  /** "keep" only when editing. */
  expiry: ExpiryChoice | "keep";
  /** yyyy-mm-dd, for the "date" choice. */
  expiryDate: string;
  ownRateLimit: boolean;
  limit: string;
  windowSeconds: string;
}

/**
 * A new key's form, within `grantable` (the calling key's bounds, without admin power): the
 * longest expiry choice that does not outlive the calling key, and, when the server default is
 * more than it may give, its own rate limit set to the most it may.
 */
export function emptyKeyForm(clientTypes: readonly string[], grantable?: Grantable, now = Date.now()): KeyFormValues {
  const ownLimit = grantable && !grantable.defaultRateLimitGrantable ? grantable.maxRateLimit : null;
  return {
    name: "", description: "", clientType: clientTypes[0] ?? "", scopes: [], otherScopes: "",
    expiry: defaultExpiry(grantable?.latestExpiresAt ?? null, now), expiryDate: "", ownRateLimit: ownLimit !== null,
    limit: ownLimit ? String(ownLimit.limit) : "", windowSeconds: ownLimit ? String(ownLimit.windowSeconds) : "60",
  };
}

/** The default choice if it fits before `latest`, else the longest that does; "date" when none does. */
function defaultExpiry(latest: string | null, now: number): ExpiryChoice {
  if (latest === null) return DEFAULT_EXPIRY;
  const fits = EXPIRY_CHOICES.filter((c) => c.days !== undefined && now + c.days * 86_400_000 <= Date.parse(latest));
  return fits.some((c) => c.id === DEFAULT_EXPIRY) ? DEFAULT_EXPIRY : (fits.at(-1)?.id ?? "date");
}

export function keyFormOf(key: ApiKey): KeyFormValues {
  return {
    name: key.name, description: key.description ?? "", clientType: key.clientType, scopes: [...key.scopes], otherScopes: "",
    expiry: "keep", expiryDate: "", ownRateLimit: key.rateLimit !== null,
    limit: key.rateLimit ? String(key.rateLimit.limit) : "", windowSeconds: key.rateLimit ? String(key.rateLimit.windowSeconds) : "60",
  };
}

/** When the chosen expiry falls: undefined = keep as it is, null = never. */
export function expiryOf(values: KeyFormValues, now: number): string | null | undefined {
  if (values.expiry === "keep") return undefined;
  if (values.expiry === "never") return null;
  // The end of the chosen day, in the browser's time zone; an empty date is left for the server to refuse.
  if (values.expiry === "date") return values.expiryDate ? new Date(`${values.expiryDate}T23:59:59`).toISOString() : "";
  const days = EXPIRY_CHOICES.find((c) => c.id === values.expiry)?.days ?? 0;
  return new Date(now + days * 86_400_000).toISOString();
}

export function scopesOf(values: KeyFormValues): string[] {
  const typed = values.otherScopes.split(/[\s,]+/).filter((s) => s !== "");
  return [...new Set([...values.scopes, ...typed])].sort();
}

/** Numbers as typed: the server judges them and names the field it refuses. */
function rateLimitOf(values: KeyFormValues): RateLimit | null {
  if (!values.ownRateLimit) return null;
  return { limit: Math.trunc(Number(values.limit)), windowSeconds: Math.trunc(Number(values.windowSeconds)) };
}

export function createInput(values: KeyFormValues, now: number, userId?: string): CreateKeyInput {
  const input: CreateKeyInput = {
    name: values.name,
    description: values.description.trim() === "" ? null : values.description,
    clientType: values.clientType,
    scopes: scopesOf(values),
    expiresAt: expiryOf(values, now) ?? null,
    rateLimit: rateLimitOf(values),
  };
  if (userId) input.userId = userId;
  return input;
}

/** Only what changed, so that a key's settings the person did not touch are left alone. */
export function updateInput(values: KeyFormValues, key: ApiKey, now: number): UpdateKeyInput {
  const input: UpdateKeyInput = {};
  if (values.name !== key.name) input.name = values.name;
  const description = values.description.trim() === "" ? null : values.description;
  if (description !== key.description) input.description = description;
  if (values.clientType !== key.clientType) input.clientType = values.clientType;
  const scopes = scopesOf(values);
  if (scopes.join(" ") !== [...key.scopes].sort().join(" ")) input.scopes = scopes;
  const expiresAt = expiryOf(values, now);
  if (expiresAt !== undefined) input.expiresAt = expiresAt;
  const rateLimit = rateLimitOf(values);
  if (JSON.stringify(rateLimit) !== JSON.stringify(key.rateLimit)) input.rateLimit = rateLimit;
  return input;
}
