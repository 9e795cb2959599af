import type { AuditService } from "../audit/audit-service.ts";
import { actorKind } from "../audit/audit-visibility.ts";
import type { Auth, KeyscopeContext } from "../auth/context.ts";
import { principalFromAuth, type Principal } from "../auth/principal.ts";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import type { ApiKeyRow, AuditEventRow, UserRow } from "../db/schema/index.ts";
import type { KeyStatusFilter } from "../keys/key-repository.ts";
import type { CreateKeyInput, ImportKeyInput, KeyService, UpdateKeyInput } from "../keys/key-service.ts";
import { rateLimitOfRow } from "../keys/key-powers.ts";
import { keyStatus } from "../keys/key-status.ts";
import { NotFoundError } from "../errors.ts";
import { findKeyById } from "../keys/key-repository.ts";
import { findUserById } from "../users/user-repository.ts";
import type { CreateUserInput, UpdateUserInput, UserService } from "../users/user-service.ts";
import { usageBuckets } from "../limits/usage-query.ts";
import { DateTime, JSON } from "./scalars.ts";

export interface ManagementDeps {
  db: Db;
  clock: Clock;
  keys: KeyService;
  users: UserService;
  audit: AuditService;
}

type Ctx = KeyscopeContext;

/**
 * Resolvers for schema/management.graphql: thin, each hands the caller's principal to a service.
 * The directive has already checked key and scopes; services check everything else. `deps` is
 * asked at each request, so that the schema can be built (and checked) before the services exist.
 */
export function createManagementResolvers(deps: () => ManagementDeps) {
  // One principal per request, however many fields ask.
  const principals = new WeakMap<Auth, Promise<Principal>>();
  const principal = (ctx: Ctx) => {
    let found = principals.get(ctx.auth);
    if (!found) principals.set(ctx.auth, (found = principalFromAuth(deps().db, ctx.auth, deps().clock)));
    return found;
  };
  const db = () => deps().db;
  const keys = () => deps().keys;
  const now = () => deps().clock.now();

  return {
    DateTime,
    JSON,
    Query: {
      me: async (_: unknown, __: unknown, ctx: Ctx) => {
        const key = ctx.auth.key!;
        const [apiKey, user] = await Promise.all([findKeyById(db(), key.id), findUserById(db(), key.userId)]);
        if (!apiKey || !user) throw new NotFoundError("The calling key was not found.");
        return { apiKey, user };
      },
      myApiKeys: async (_: unknown, { status, last }: { status?: KeyStatusFilter | null; last?: number | null }, ctx: Ctx) =>
        keys().listOwnKeys(await principal(ctx), status, last),
      apiKey: async (_: unknown, { id }: { id: string }, ctx: Ctx) => keys().getKey(await principal(ctx), id),
      apiKeys: async (_: unknown, args: { filter?: { userId?: string; clientType?: string; status?: KeyStatusFilter } | null; first?: number | null; after?: string | null }, ctx: Ctx) =>
        keys().pageKeys(await principal(ctx), args.filter ?? {}, args.first, args.after),
      users: async (_: unknown, args: { first?: number | null; after?: string | null }, ctx: Ctx) =>
        deps().users.pageUsers(await principal(ctx), args.first, args.after),
      user: async (_: unknown, { id }: { id: string }, ctx: Ctx) => deps().users.getUser(await principal(ctx), id),
      auditEvents: async (_: unknown, args: { filter?: { keyId?: string; userId?: string; action?: string } | null; first?: number | null; after?: string | null }, ctx: Ctx) =>
        deps().audit.pageEvents(await principal(ctx), args.filter ?? {}, args.first, args.after),
    },
    Mutation: {
      createApiKey: async (_: unknown, { input }: { input: CreateKeyInput }, ctx: Ctx) => keys().createKey(await principal(ctx), input),
      importApiKey: async (_: unknown, { input }: { input: ImportKeyInput }, ctx: Ctx) => keys().importKey(await principal(ctx), input),
      updateApiKey: async (_: unknown, { id, input }: { id: string; input: UpdateKeyInput }, ctx: Ctx) =>
        keys().updateKey(await principal(ctx), id, input),
      rotateApiKey: async (_: unknown, { id, gracePeriodSeconds }: { id: string; gracePeriodSeconds?: number | null }, ctx: Ctx) =>
        keys().rotateKey(await principal(ctx), id, gracePeriodSeconds ?? 0),
      revokeApiKey: async (_: unknown, { id }: { id: string }, ctx: Ctx) => keys().revokeKey(await principal(ctx), id),
      createUser: async (_: unknown, { input }: { input: CreateUserInput }, ctx: Ctx) => deps().users.createUser(await principal(ctx), input),
      updateUser: async (_: unknown, { id, input }: { id: string; input: UpdateUserInput }, ctx: Ctx) =>
        deps().users.updateUser(await principal(ctx), id, input),
    },
    Caller: {
      grantable: async (caller: { user: UserRow }, _: unknown, ctx: Ctx) => keys().grantable(await principal(ctx), caller.user),
    },
    ApiKey: {
      status: (key: ApiKeyRow) => keyStatus(key, now()),
      rateLimit: rateLimitOfRow,
      usage: (key: ApiKeyRow, { since, until }: { since?: Date | null; until?: Date | null }) =>
        usageBuckets(db(), key.id, since, until, now()),
      owner: async (key: ApiKeyRow) => {
        const user = await findUserById(db(), key.userId);
        if (!user) throw new NotFoundError("The key's owner was not found.");
        return user;
      },
    },
    AuditEvent: {
      actorKind: (event: AuditEventRow) => actorKind(event),
    },
    User: {
      apiKeys: async (user: UserRow, { status, last }: { status?: KeyStatusFilter | null; last?: number | null }, ctx: Ctx) =>
        keys().listKeysOfUser(await principal(ctx), user.id, status, last),
    },
  };
}
