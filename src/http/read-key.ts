import type { IncomingHttpHeaders } from "node:http";
import type { KeySources } from "../config.ts";

/** What a request presented, before any verification (SPEC §3). */
export type PresentedKey =
  | { kind: "none" }
  | { kind: "key"; key: string }
  | { kind: "rejected"; reason: "AMBIGUOUS_KEY" | "KEY_MALFORMED" };

/** The parts of an HTTP request a key can come from. */
export interface KeyCarrier {
  /** Node's `req.rawHeaders`: name, value, name, value… (repeats kept, unlike `req.headers`). */
  rawHeaders: readonly string[];
  /** The query string with its `?`, or "". */
  search: string;
  /** The parsed JSON body, if any. */
  body: unknown;
}

const AUTH_SCHEMES = new Set(["apikey", "api-key", "bearer"]);

/** What the rest of the server may see of a request: its headers, query string and body. */
export interface VisibleRequest {
  headers: IncomingHttpHeaders;
  /** With its `?`, or "". */
  search: string;
  body: unknown;
}

/**
 * The key reader at the door: the presented key, and the request without it (every key
 * header, the key cookie, the key query parameter and `extensions.apiKey` removed), which is
 * all that Apollo and its plugins need to see (as Kong's hide_credentials).
 */
export function readKeyAtDoor(
  request: KeyCarrier & VisibleRequest,
  sources: KeySources,
): { presented: PresentedKey; withoutKey: VisibleRequest } {
  const presented = readPresentedKey(request, sources);
  // Nothing to remove from a request that presents nothing: no copy on the keyless path.
  const visible = presented.kind === "none" ? { headers: request.headers, search: request.search, body: request.body } : withoutKey(request, sources);
  return { presented, withoutKey: visible };
}

/**
 * Finds the key in a request. Two different keys, or one key header sent twice, are ambiguous;
 * an empty value is malformed. GraphQL variables are never read.
 */
export function readPresentedKey(request: KeyCarrier, sources: KeySources): PresentedKey {
  const found: string[] = [];
  if (!collectFromHeaders(request.rawHeaders, sources, found)) return ambiguous;
  if (sources.queryParam && request.search) {
    const values = new URLSearchParams(request.search).getAll(sources.queryParam);
    if (values.length > 1) return ambiguous;
    found.push(...values);
  }
  if (sources.extensions) {
    const value = extensionsKey(request.body);
    if (value !== undefined) found.push(value);
  }
  return decide(found);
}

const ambiguous: PresentedKey = { kind: "rejected", reason: "AMBIGUOUS_KEY" };
const malformed: PresentedKey = { kind: "rejected", reason: "KEY_MALFORMED" };

function decide(found: string[]): PresentedKey {
  if (found.length === 0) return { kind: "none" };
  const first = found[0]!;
  if (found.some((value) => value !== first)) return ambiguous;
  return first === "" ? malformed : { kind: "key", key: first };
}

/** Adds header and cookie values to `found`; false when a key header or cookie came twice. */
function collectFromHeaders(rawHeaders: readonly string[], sources: KeySources, found: string[]): boolean {
  const seen = new Set<string>();
  let cookies = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1] ?? "";
    if (name === "cookie" && sources.cookie) {
      const values = cookieValues(value, sources.cookie);
      cookies += values.length;
      found.push(...values);
      continue;
    }
    let key: string | undefined;
    if (name === "x-api-key" || sources.headers.includes(name)) key = value.trim();
    else if (name === "authorization") key = fromAuthorization(value);
    if (key === undefined) continue;
    if (seen.has(name)) return false;
    seen.add(name);
    found.push(key);
  }
  return cookies <= 1;
}

/** `<scheme> <key>` with scheme ApiKey, Api-Key or Bearer in any case; other schemes are not ours. */
function fromAuthorization(value: string): string | undefined {
  const trimmed = value.trim();
  const space = trimmed.indexOf(" ");
  const scheme = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  if (!AUTH_SCHEMES.has(scheme)) return undefined;
  return space === -1 ? "" : trimmed.slice(space + 1).trim();
}

/** A copy of the request without what `readPresentedKey` would read as a key. */
export function withoutKey(request: VisibleRequest, sources: KeySources): VisibleRequest {
  // Copied name by name, leaving out the key's: cheaper than spreading and deleting (which turns
  // the copy into a slow dictionary object) on every keyed request.
  const headers: IncomingHttpHeaders = {};
  for (const name in request.headers) {
    const value = request.headers[name];
    if (value === undefined || name === "x-api-key" || sources.headers.includes(name)) continue;
    // Other schemes (Basic…) are not Keyscope's and stay.
    if (name === "authorization" && fromAuthorization(value as string) !== undefined) continue;
    if (name === "cookie" && sources.cookie) {
      const rest = cookieHeaderWithout(value as string, sources.cookie);
      if (rest !== "") headers.cookie = rest;
      continue;
    }
    headers[name] = value;
  }
  return {
    headers,
    search: sources.queryParam ? searchWithout(request.search, sources.queryParam) : request.search,
    body: sources.extensions ? bodyWithout(request.body) : request.body,
  };
}

/** Values of cookie `name` in a Cookie header (RFC 6265 pairs separated by `;`). */
export function cookieValues(header: string, name: string): string[] {
  const values: string[] = [];
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim() === name) values.push(decodeCookie(pair.slice(eq + 1).trim()));
  }
  return values;
}

function decodeCookie(value: string): string {
  const unquoted = value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
  try {
    return decodeURIComponent(unquoted);
  } catch {
    return unquoted;
  }
}

/** The Cookie header without the pairs named `name`; "" when none is left. */
function cookieHeaderWithout(header: string, name: string): string {
  return header
    .split(";")
    .filter((pair) => {
      const eq = pair.indexOf("=");
      return pair.trim() !== "" && (eq === -1 || pair.slice(0, eq).trim() !== name);
    })
    .map((pair) => pair.trim())
    .join("; ");
}

/** The query string without parameter `name` (however it was encoded); other parameters as sent. */
function searchWithout(search: string, name: string): string {
  if (search === "") return search;
  const kept = search.slice(1).split("&").filter((part) => part !== "" && !new URLSearchParams(part).has(name));
  return kept.length === 0 ? "" : `?${kept.join("&")}`;
}

function bodyWithout(body: unknown): unknown {
  if (extensionsKey(body) === undefined) return body;
  const { extensions, ...rest } = body as { extensions: Record<string, unknown> };
  const { apiKey: _key, ...otherExtensions } = extensions;
  return { ...rest, extensions: otherExtensions };
}

function extensionsKey(body: unknown): string | undefined {
  if (!body || typeof body !== "object" || Array.isArray(body)) return undefined;
  const extensions = (body as { extensions?: unknown }).extensions;
  if (!extensions || typeof extensions !== "object") return undefined;
  const value = (extensions as { apiKey?: unknown }).apiKey;
  if (value === undefined || value === null) return undefined;
  // A non-string key is as good as an empty one: malformed.
  return typeof value === "string" ? value : "";
}
