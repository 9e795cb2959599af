// Shared by the directive's unit suites: keys, whole errors, and what a refusal looks like.
import type { ExecutionResult } from "graphql";
import { expect } from "vitest";
import type { AuthenticatedKey } from "../../src/auth/credential.ts";

export function keyOf(clientType: string, ...scopes: string[]): AuthenticatedKey {
  return { id: "key-1", secretId: "secret-1", userId: "user-1", clientType, scopes: new Set(scopes), ownerRole: "MEMBER", rateLimit: null };
}

/** Errors as plain objects, to compare whole. */
export function errorsOf(result: ExecutionResult) {
  return (result.errors ?? []).map((error) => ({ message: error.message, path: error.path, extensions: error.extensions }));
}

/** A message that names the refused field first and mentions every thing it needs. */
export function naming(coordinate: string, ...needs: string[]) {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return expect.stringMatching(new RegExp(`^${escape(coordinate)}\\b${needs.map((n) => `(?=.*'${escape(n)}')`).join("")}`));
}

export const KEY_MISSING = { code: "UNAUTHENTICATED", reason: "KEY_MISSING" };
export const CLIENT_TYPE_NOT_ALLOWED = { code: "FORBIDDEN", reason: "CLIENT_TYPE_NOT_ALLOWED" };
export const SCOPE_MISSING = { code: "FORBIDDEN", reason: "SCOPE_MISSING" };

export function missingKey(coordinate: string, path: (string | number)[]) {
  return { message: naming(coordinate), path, extensions: KEY_MISSING };
}
export function wrongClientType(coordinate: string, path: (string | number)[], ...allowed: string[]) {
  return { message: naming(coordinate, ...allowed), path, extensions: CLIENT_TYPE_NOT_ALLOWED };
}
export function missingScope(coordinate: string, path: (string | number)[], ...scopes: string[]) {
  return { message: naming(coordinate, ...scopes), path, extensions: SCOPE_MISSING };
}
