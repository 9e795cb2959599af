import type { KeyscopeContext } from "../auth/context.ts";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import type { ApiKeyRow, UserRow } from "../db/schema/index.ts";
import { findKeyById } from "../keys/key-repository.ts";
import { keyStatus } from "../keys/key-status.ts";
import { findUserById } from "../users/user-repository.ts";
import { notFound } from "./errors.ts";
import { DateTime, JSON } from "./scalars.ts";

export interface ManagementDeps {
  db: Db;
  clock: Clock;
}

/** Resolvers for schema/management.graphql. The directive has already checked the caller. */
export function createManagementResolvers({ db, clock }: ManagementDeps) {
  return {
    DateTime,
    JSON,
    Query: {
      me: async (_: unknown, __: unknown, { auth }: KeyscopeContext) => {
        const key = auth.key!; // @requiresKey guarantees it
        const [apiKey, user] = await Promise.all([findKeyById(db, key.id), findUserById(db, key.userId)]);
        if (!apiKey || !user) throw notFound("The calling key");
        return { apiKey, user };
      },
    },
    ApiKey: {
      status: (key: ApiKeyRow) => keyStatus(key, clock.now()),
      rateLimit: (key: ApiKeyRow) =>
        key.rateLimitLimit !== null && key.rateLimitWindowSeconds !== null
          ? { limit: key.rateLimitLimit, windowSeconds: key.rateLimitWindowSeconds }
          : null,
      owner: async (key: ApiKeyRow) => {
        const user = await findUserById(db, key.userId);
        if (!user) throw notFound("The key's owner");
        return user;
      },
    },
    User: {
      clientTypes: (user: UserRow) => user.clientTypes,
    },
  };
}
