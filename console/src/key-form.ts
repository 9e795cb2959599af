// The values of the create and edit key forms, and how they become API input.
import { DEFAULT_EXPIRY, EXPIRY_CHOICES, type ExpiryChoice } from "./constants.ts";
import type { ApiKey, CreateKeyInput, RateLimit, UpdateKeyInput } from "./types.ts";

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

export function emptyKeyForm(clientTypes: readonly string[]): KeyFormValues {
  return {
    name: "", description: "", clientType: clientTypes[0] ?? "", scopes: [], otherScopes: "",
    expiry: DEFAULT_EXPIRY, expiryDate: "", ownRateLimit: false, limit: "", windowSeconds: "60",
  };
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
