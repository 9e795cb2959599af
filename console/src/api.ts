// The only module that talks to /graphql: one small client (fetch POST, X-API-Key from the session)
// and the operations the pages use. Views never build requests themselves.
import { USAGE_BATCH } from "./constants.ts";
import { storedKey } from "./session.ts";
import type {
  ApiKey, ApiKeyStatus, AuditEvent, AuditFilter, Caller, CreateKeyInput, CreateUserInput, IssuedKey, KeyDetail, KeyFilter,
  KeyWithUsage, Page, UpdateKeyInput, UpdateUserInput, UsageBucket, User,
} from "./types.ts";

const GRAPHQL_URL = "/graphql";

/** One error as the server gave it: its message, and `extensions.code / reason / field`. */
export interface ApiError {
  message: string;
  code?: string;
  reason?: string;
  field?: string;
}

export type Result<T> = { ok: true; data: T } | { ok: false; errors: ApiError[]; status: number };

let keyRefused: ((errors: ApiError[]) => void) | undefined;

/** Called when the signed-in key stops working (revoked, disabled, expired): the app signs out. */
export function onKeyRefused(listener: (errors: ApiError[]) => void): void {
  keyRefused = listener;
}

async function request<T>(query: string, variables: Record<string, unknown> = {}, key: string | null = storedKey()): Promise<Result<T>> {
  if (!key) return { ok: false, errors: [{ message: "You are not signed in." }], status: 0 };
  let response: Response;
  try {
    response = await fetch(GRAPHQL_URL, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key },
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    return { ok: false, errors: [{ message: "The server cannot be reached. Check the connection and try again." }], status: 0 };
  }
  const body = (await response.json().catch(() => undefined)) as { data?: T | null; errors?: RawError[] } | undefined;
  const errors = (body?.errors ?? []).map(toApiError);
  if (errors.length === 0 && body?.data != null) return { ok: true, data: body.data };
  if (errors.length === 0) errors.push({ message: `The server answered ${response.status} without data.` });
  return { ok: false, errors, status: response.status };
}

interface RawError {
  message?: unknown;
  extensions?: { code?: unknown; reason?: unknown; field?: unknown };
}

function toApiError(raw: RawError): ApiError {
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  const error: ApiError = { message: text(raw.message) ?? "The server refused the request." };
  const code = text(raw.extensions?.code);
  const reason = text(raw.extensions?.reason);
  const field = text(raw.extensions?.field);
  if (code) error.code = code;
  if (reason) error.reason = reason;
  if (field) error.field = field;
  return error;
}

/** The same request with the signed-in key, telling the app when that key is refused. */
async function call<T>(query: string, variables?: Record<string, unknown>): Promise<Result<T>> {
  const result = await request<T>(query, variables);
  if (!result.ok && result.status === 401) keyRefused?.(result.errors);
  return result;
}

function map<T, U>(result: Result<T>, f: (data: T) => U): Result<U> {
  return result.ok ? { ok: true, data: f(result.data) } : result;
}

const KEY = `id name description clientType scopes start status active switchedOffBy expiresAt createdAt updatedAt lastUsedAt revokedAt
  rateLimit { limit windowSeconds }`;
const USAGE = "start requests rejected";
const USER = "id email name role clientTypes disabled createdAt";
const EVENT = "id at action actorKind actorUserId actorKeyId targetKeyId targetUserId ip changes";
const PAGE_INFO = "pageInfo { hasNextPage endCursor } totalCount";

interface Connection<T> {
  edges: { node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

function page<T>(connection: Connection<T>): Page<T> {
  return { nodes: connection.edges.map((e) => e.node), ...connection.pageInfo, totalCount: connection.totalCount };
}

const GRANTABLE = "unrestricted scopes clientTypes latestExpiresAt maxRateLimit { limit windowSeconds } defaultRateLimitGrantable";
const ME = `query Me { me { apiKey { ${KEY} } user { ${USER} } grantable { ${GRANTABLE} } } }`;

/** Who holds `key`: used to sign in (with the pasted key, before anything is stored) and on reload. */
export async function signInWith(key: string): Promise<Result<Caller>> {
  return map(await request<{ me: Caller }>(ME, {}, key), (d) => d.me);
}

export async function me(): Promise<Result<Caller>> {
  return map(await call<{ me: Caller }>(ME), (d) => d.me);
}

export async function myKeys(status?: ApiKeyStatus): Promise<Result<ApiKey[]>> {
  const query = `query MyKeys($status: ApiKeyStatus) { myApiKeys(status: $status) { ${KEY} } }`;
  return map(await call<{ myApiKeys: ApiKey[] }>(query, { status: status ?? null }), (d) => d.myApiKeys);
}

/**
 * The last 24 hours of usage for these keys, a few keys per request (aliases are limited, and
 * a query's cost grows with its buckets). Keys the caller cannot see are left out.
 */
export async function usageOf(ids: readonly string[]): Promise<Map<string, UsageBucket[]>> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += USAGE_BATCH) batches.push(ids.slice(i, i + USAGE_BATCH));
  const results = await Promise.all(
    batches.map((batch) => {
      const params = batch.map((_, i) => `$k${i}: ID!`).join(", ");
      const fields = batch.map((_, i) => `k${i}: apiKey(id: $k${i}) { id usage { ${USAGE} } }`).join(" ");
      const variables = Object.fromEntries(batch.map((id, i) => [`k${i}`, id]));
      return call<Record<string, { id: string; usage: UsageBucket[] } | null>>(`query Usage(${params}) { ${fields} }`, variables);
    }),
  );
  const usage = new Map<string, UsageBucket[]>();
  for (const result of results) {
    if (!result.ok) continue;
    for (const key of Object.values(result.data)) if (key) usage.set(key.id, key.usage);
  }
  return usage;
}

export async function keyDetail(id: string, now: number): Promise<Result<KeyDetail>> {
  const query = `query Key($id: ID!, $day: DateTime!, $week: DateTime!) {
    apiKey(id: $id) { ${KEY} owner { id email clientTypes } day: usage(since: $day) { ${USAGE} } week: usage(since: $week) { ${USAGE} } } }`;
  const hour = 3_600_000;
  const start = Math.floor(now / hour) * hour;
  const variables = { id, day: new Date(start - 23 * hour).toISOString(), week: new Date(start - 167 * hour).toISOString() };
  const result = await call<{ apiKey: KeyDetail | null }>(query, variables);
  if (result.ok && !result.data.apiKey) return { ok: false, errors: [{ message: "No API key has this id.", code: "NOT_FOUND" }], status: 200 };
  return map(result, (d) => d.apiKey!);
}

export async function createKey(input: CreateKeyInput): Promise<Result<IssuedKey>> {
  const query = `mutation Create($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { ${KEY} } } }`;
  return map(await call<{ createApiKey: IssuedKey }>(query, { input }), (d) => d.createApiKey);
}

export async function updateKey(id: string, input: UpdateKeyInput): Promise<Result<ApiKey>> {
  const query = `mutation Update($id: ID!, $input: UpdateApiKeyInput!) { updateApiKey(id: $id, input: $input) { ${KEY} } }`;
  return map(await call<{ updateApiKey: ApiKey }>(query, { id, input }), (d) => d.updateApiKey);
}

export async function rotateKey(id: string, gracePeriodSeconds: number): Promise<Result<IssuedKey>> {
  const query = `mutation Rotate($id: ID!, $grace: Int!) { rotateApiKey(id: $id, gracePeriodSeconds: $grace) { secret apiKey { ${KEY} } } }`;
  return map(await call<{ rotateApiKey: IssuedKey }>(query, { id, grace: gracePeriodSeconds }), (d) => d.rotateApiKey);
}

export async function revokeKey(id: string): Promise<Result<ApiKey>> {
  const query = `mutation Revoke($id: ID!) { revokeApiKey(id: $id) { ${KEY} } }`;
  return map(await call<{ revokeApiKey: ApiKey }>(query, { id }), (d) => d.revokeApiKey);
}

export async function allKeys(filter: KeyFilter, first: number, after?: string): Promise<Result<Page<KeyWithUsage>>> {
  const query = `query Keys($filter: ApiKeyFilter, $first: Int, $after: String) {
    apiKeys(filter: $filter, first: $first, after: $after) { edges { node { ${KEY} owner { id email } usage { ${USAGE} } } } ${PAGE_INFO} } }`;
  return map(await call<{ apiKeys: Connection<KeyWithUsage> }>(query, { filter, first, after: after ?? null }), (d) => page(d.apiKeys));
}

export async function users(first: number, after?: string): Promise<Result<Page<User>>> {
  const query = `query Users($first: Int, $after: String) { users(first: $first, after: $after) { edges { node { ${USER} } } ${PAGE_INFO} } }`;
  return map(await call<{ users: Connection<User> }>(query, { first, after: after ?? null }), (d) => page(d.users));
}

export async function createUser(input: CreateUserInput): Promise<Result<User>> {
  const query = `mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { ${USER} } }`;
  return map(await call<{ createUser: User }>(query, { input }), (d) => d.createUser);
}

export async function updateUser(id: string, input: UpdateUserInput): Promise<Result<User>> {
  const query = `mutation UpdateUser($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { ${USER} } }`;
  return map(await call<{ updateUser: User }>(query, { id, input }), (d) => d.updateUser);
}

export async function auditEvents(filter: AuditFilter, first: number, after?: string): Promise<Result<Page<AuditEvent>>> {
  const query = `query Audit($filter: AuditEventFilter, $first: Int, $after: String) {
    auditEvents(filter: $filter, first: $first, after: $after) { edges { node { ${EVENT} } } ${PAGE_INFO} } }`;
  return map(await call<{ auditEvents: Connection<AuditEvent> }>(query, { filter, first, after: after ?? null }), (d) => page(d.auditEvents));
}
