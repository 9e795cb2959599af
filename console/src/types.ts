// The shapes the console reads from the GraphQL API (schema/management.graphql).

export type ApiKeyStatus = "ACTIVE" | "DISABLED" | "EXPIRED" | "REVOKED";
export type Role = "ADMIN" | "MEMBER";

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

export interface UsageBucket {
  start: string;
  requests: number;
  rejected: number;
}

export interface ApiKey {
  id: string;
  name: string;
  description: string | null;
  clientType: string;
  scopes: string[];
  start: string;
  status: ApiKeyStatus;
  active: boolean;
  /** Who switched the key off; null while it is on. */
  switchedOffBy: "ADMIN" | "OWNER" | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  rateLimit: RateLimit | null;
}

/** A key with its owner, as admins list them. */
export interface OwnedApiKey extends ApiKey {
  owner: { id: string; email: string };
}

export interface KeyWithUsage extends OwnedApiKey {
  usage: UsageBucket[];
}

export interface KeyDetail extends ApiKey {
  owner: { id: string; email: string; clientTypes: string[] };
  day: UsageBucket[];
  week: UsageBucket[];
}

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  clientTypes: string[];
  disabled: boolean;
  createdAt: string;
}

export interface Caller {
  apiKey: ApiKey;
  user: User;
  grantable: Grantable;
}

/** What the signed-in key may give the keys it creates or edits (the server's own bounds). */
export interface Grantable {
  /** Admin power: anything. */
  unrestricted: boolean;
  scopes: string[];
  clientTypes: string[];
  /** null: any date, or never. */
  latestExpiresAt: string | null;
  /** null: any. */
  maxRateLimit: RateLimit | null;
  /** Whether a key may be left on the server default rate limit. */
  defaultRateLimitGrantable: boolean;
}

export interface AuditEvent {
  id: string;
  at: string;
  action: string;
  /** Who acted: the operator CLI, an admin, or the user the event is about. */
  actorKind: "OPERATOR" | "ADMIN" | "SELF";
  actorUserId: string | null;
  actorKeyId: string | null;
  targetKeyId: string | null;
  targetUserId: string | null;
  ip: string | null;
  changes: unknown;
}

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  endCursor: string | null;
  totalCount: number;
}

export interface IssuedKey {
  apiKey: ApiKey;
  /** Shown once in a dialog, then dropped: never stored, logged or put in a URL. */
  secret: string;
}

export interface CreateKeyInput {
  name: string;
  description?: string | null;
  clientType: string;
  scopes: string[];
  expiresAt: string | null;
  rateLimit: RateLimit | null;
  userId?: string;
}

export interface UpdateKeyInput {
  name?: string;
  description?: string | null;
  expiresAt?: string | null;
  active?: boolean;
  scopes?: string[];
  clientType?: string;
  rateLimit?: RateLimit | null;
}

export interface CreateUserInput {
  email: string;
  name?: string | null;
  role: Role;
  clientTypes: string[];
}

export interface UpdateUserInput {
  name?: string | null;
  role?: Role;
  clientTypes?: string[];
  disabled?: boolean;
}

export interface KeyFilter {
  userId?: string;
  clientType?: string;
  status?: ApiKeyStatus;
}

export interface AuditFilter {
  keyId?: string;
  userId?: string;
  action?: string;
}
