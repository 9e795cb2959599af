import type { ServerResponse } from "node:http";
import type { ErrorCode } from "../errors.ts";

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(value));
}

/** A GraphQL-shaped error for a request that never reached GraphQL (too large, not JSON…). */
export function sendGraphQLError(res: ServerResponse, status: number, message: string, code: ErrorCode): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}
