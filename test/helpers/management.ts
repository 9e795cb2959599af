// Shared by the management suites (SPEC §6): selections and response checks.
import { expect } from "vitest";
import type { HttpResponse } from "./http.ts";
import { apiKey, type TestServer } from "./server.ts";

/** Every field of an ApiKey except usage. */
export const KEY_FIELDS = `id name description clientType scopes start status active switchedOffBy expiresAt createdAt updatedAt lastUsedAt revokedAt
  rateLimit { limit windowSeconds } owner { id email }`;
export const USER_FIELDS = "id email name role clientTypes disabled createdAt";
export const EVENT_FIELDS = "id at action actorUserId actorKeyId targetKeyId targetUserId ip changes";

/** The scopes of a key that administers everything. */
export const ADMIN_SCOPES = ["keys:admin", "keys:self"];

/**
 * Server limits for suites about management, not throttling: they present many refused keys from
 * one address, which the failed-auth throttle (20 a minute by default) would answer with 429.
 */
export const MANAGEMENT_LIMITS = { failedAuth: { limit: 10_000, windowSeconds: 60 } };

/** Runs an operation with `secret`; fails unless it answered 200 without errors. Returns `data`. */
export async function ok(server: TestServer, secret: string, query: string, variables?: Record<string, unknown>): Promise<any> {
  const res = await server.query(query, [apiKey(secret)], variables);
  expect(res.json?.errors, JSON.stringify(res.json?.errors)).toBeUndefined();
  expect(res.status).toBe(200);
  return res.json.data;
}

/**
 * A refusal of the one root field `field`: 200, `data` as given (null when the field is non-null),
 * exactly one error at that path with exactly these extensions.
 */
export function expectFieldError(res: HttpResponse, field: string, extensions: Record<string, unknown>, data: unknown = null): void {
  expect(res.status).toBe(200);
  expect(res.json).toEqual({
    data,
    errors: [{ message: expect.any(String), locations: [expect.objectContaining({ line: expect.any(Number) })], path: [field], extensions }],
  });
  expect(res.json.errors[0].message.length).toBeGreaterThan(0);
}

/** BAD_USER_INPUT on a non-null root field, naming the input field. */
export function expectBadInput(res: HttpResponse, field: string, inputField: string): void {
  expectFieldError(res, field, { code: "BAD_USER_INPUT", field: inputField });
}

/** Follows `after` cursors through a connection; returns every node, and checks the page bookkeeping. */
export async function allPages<T>(
  fetchPage: (after: string | null) => Promise<{ edges: { cursor: string; node: T }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number }>,
  pageSize: number,
): Promise<{ nodes: T[]; pages: number; totalCount: number }> {
  const nodes: T[] = [];
  let after: string | null = null;
  let pages = 0;
  let totalCount = -1;
  for (;;) {
    const page = await fetchPage(after);
    pages++;
    if (totalCount === -1) totalCount = page.totalCount;
    expect(page.totalCount).toBe(totalCount);
    expect(page.edges.length).toBeLessThanOrEqual(pageSize);
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
    nodes.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) break;
    expect(page.edges).toHaveLength(pageSize);
    after = page.pageInfo.endCursor;
    expect(pages).toBeLessThan(1000);
  }
  return { nodes, pages, totalCount };
}

/** lastUsedAt is written in batches, so comparisons across requests accept whatever it holds. */
export const ANY_LAST_USED = expect.toSatisfy((v: unknown) => v === null || typeof v === "string");

/** A random v4-shaped UUID that names nothing. */
export const UNKNOWN_ID = "7d0e9b54-3f7a-4c59-9d6b-0f1e2d3c4b5a";
