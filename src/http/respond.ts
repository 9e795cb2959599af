import type { ServerResponse } from "node:http";
import type { ErrorCode } from "../errors.ts";

/** On every response: no content sniffing (a JSON error must never be taken for HTML). */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [["x-content-type-options", "nosniff"]];

/**
 * On every GraphQL response: they depend on the key (and some carry a new key's secret), so
 * no browser or shared cache may keep them.
 */
export const GRAPHQL_HEADERS: readonly (readonly [string, string])[] = [...SECURITY_HEADERS, ["cache-control", "no-store"]];

/** Sets `headers` one by one (for responses off the GraphQL hot path). */
export function setHeaders(res: ServerResponse, headers: readonly (readonly [string, string])[]): void {
  for (const [name, value] of headers) res.setHeader(name, value);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(value));
}

/** A GraphQL-shaped error for a request that never reached GraphQL (too large, not JSON…). */
export function sendGraphQLError(res: ServerResponse, status: number, message: string, code: ErrorCode): void {
  setHeaders(res, GRAPHQL_HEADERS);
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}
