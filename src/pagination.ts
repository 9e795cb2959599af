import { InputError } from "./errors.ts";
import { checkText } from "./text-check.ts";

/** Relay-style page request, checked. */
export interface PageRequest {
  first: number;
  after: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Lists without cursors (myApiKeys, User.apiKeys) hold at most this many: the newest. */
export const MAX_LIST_SIZE = 100;

/** How many of the newest a list without cursors returns: `size`, or the most it may. */
export function checkListSize(field: string, size: number | null | undefined): number {
  const n = size ?? MAX_LIST_SIZE;
  if (!Number.isInteger(n) || n < 0 || n > MAX_LIST_SIZE) throw new InputError(field, `${field} must be from 0 to ${MAX_LIST_SIZE}.`);
  return n;
}

export function checkPage(first: number | null | undefined, after: string | null | undefined): PageRequest {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw new InputError("first", `first must be from 0 to ${MAX_PAGE_SIZE}.`);
  }
  return { first: size, after: after == null ? null : checkCursorText(after) };
}

/** Cursors are base64url and short; base64 decoding would skip anything else silently. */
const CURSOR = /^[A-Za-z0-9_-]{1,200}$/;

function checkCursorText(after: string): string {
  checkText("after", after, { maxLength: 200, keepWhitespace: true });
  if (!CURSOR.test(after)) throw new InputError("after", "after is not a cursor from this list.");
  return after;
}

/** Opaque cursors: base64url of a JSON array (the sort key of the row). */
export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

export function decodeCursor<T extends readonly unknown[]>(cursor: string, isValid: (parts: unknown[]) => parts is [...T]): T {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(parts) && isValid(parts)) return parts as unknown as T;
  } catch {
    // fall through
  }
  throw new InputError("after", "after is not a cursor from this list.");
}

/** Builds a connection from up to first+1 rows (the extra one only tells that more exist). */
export function toConnection<T>(rows: T[], first: number, totalCount: number, cursorOf: (row: T) => string): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null }, totalCount };
}

/** `[createdAtIso, uuid]` cursors for tables ordered by (created_at, id). */
export const createdAtCursor = {
  encode: (row: { createdAt: Date; id: string }) => encodeCursor([row.createdAt.toISOString(), row.id]),
  decode: (cursor: string): { createdAt: Date; id: string } => {
    const [iso, id] = decodeCursor<[string, string]>(
      cursor,
      (p): p is [string, string] => p.length === 2 && typeof p[0] === "string" && !Number.isNaN(Date.parse(p[0])) && typeof p[1] === "string" && UUID.test(p[1]),
    );
    return { createdAt: new Date(iso), id };
  },
};

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else is bad input, not a miss. */
export function checkId(field: string, id: string): string {
  checkText(field, id, { maxLength: 100, keepWhitespace: true });
  if (!UUID.test(id)) throw new InputError(field, `${field} is not a valid id (ids look like 5b0c2f1e-9d3a-4c1b-8e7f-0a1b2c3d4e5f).`);
  return id.toLowerCase();
}
