// A refused key as every suite checks it: the whole response, not only its code.
import { expect } from "vitest";
import { REASONS, type KeyFailureReason } from "../../src/errors.ts";
import type { HttpResponse } from "./http.ts";

/** The whole request refused with 401, this reason and its message, and the challenge header (SPEC §4). */
export function expectUnauthenticated(res: Pick<HttpResponse, "status" | "headers" | "json">, reason: KeyFailureReason): void {
  expect({ status: res.status, json: res.json }).toEqual({
    status: 401,
    json: { errors: [{ message: REASONS[reason].message, extensions: { code: "UNAUTHENTICATED", reason } }] },
  });
  expect(res.headers["www-authenticate"]).toBe('ApiKey realm="keyscope", header="X-API-Key"');
}
