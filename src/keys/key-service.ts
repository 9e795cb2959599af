import { and, count, eq, isNull, or, gt } from "drizzle-orm";
import { recordAuditEvent, type Actor } from "../audit/audit-repository.ts";
import { ADMIN_SCOPE } from "../auth/credential.ts";
import type { KeyCache } from "../auth/key-cache.ts";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import { apiKeys, type ApiKeyRow } from "../db/schema/index.ts";
import { InputError } from "../service-errors.ts";
import { findUserById } from "../users/user-repository.ts";
import { generateKey, hashKey, keyStart } from "./key-format.ts";
import { checkClientType, checkDescription, checkExpiry, checkName, checkRateLimit, checkScopes, type RateLimitInput } from "./key-input.ts";
import { insertKey } from "./key-repository.ts";

export interface KeyServiceOptions {
  db: Db;
  cache: KeyCache;
  clock: Clock;
  keyPrefix: string;
  hashSecret: string | undefined;
  /** Live (unrevoked, unexpired) keys one user may hold. @default 100 */
  maxKeysPerUser: number;
}

export interface IssueKeyInput {
  userId: string;
  name: string;
  description?: string | null;
  clientType: string;
  scopes?: readonly string[] | null;
  expiresAt?: Date | null;
  rateLimit?: RateLimitInput | null;
}

/** A new key with its secret: the only time the secret exists outside the caller's hands. */
export interface IssuedKey {
  apiKey: ApiKeyRow;
  secret: string;
}

export type KeyService = ReturnType<typeof createKeyService>;

/** Issues and manages keys. Permission checks are the caller's; input checks are here. */
export function createKeyService(options: KeyServiceOptions) {
  const { db, clock, keyPrefix, hashSecret } = options;

  return {
    /** Checks the input, then inserts the key and its audit event in one transaction. */
    async issueKey(input: IssueKeyInput, actor: Actor): Promise<IssuedKey> {
      const now = clock.now();
      const settings = {
        name: checkName("name", input.name),
        description: checkDescription("description", input.description),
        clientType: checkClientType("clientType", input.clientType),
        scopes: checkScopes("scopes", input.scopes),
        expiresAt: checkExpiry("expiresAt", input.expiresAt, now),
        rateLimit: checkRateLimit("rateLimit", input.rateLimit),
      };
      const secret = generateKey(keyPrefix);
      const apiKey = await db.transaction(async (tx) => {
        const owner = await findUserById(tx, input.userId);
        if (!owner) throw new InputError("userId", "No user has this id.");
        if (settings.scopes.includes(ADMIN_SCOPE) && owner.role !== "ADMIN") {
          throw new InputError("scopes", `Only keys of ADMIN users may hold ${ADMIN_SCOPE}.`);
        }
        if ((await countLiveKeys(tx, owner.id, now)) >= options.maxKeysPerUser) {
          throw new InputError("userId", `This user already holds the maximum of ${options.maxKeysPerUser} live keys.`);
        }
        const row = await insertKey(
          tx,
          {
            userId: owner.id,
            name: settings.name,
            description: settings.description,
            clientType: settings.clientType,
            scopes: settings.scopes,
            start: keyStart(secret, keyPrefix),
            expiresAt: settings.expiresAt,
            rateLimitLimit: settings.rateLimit?.limit ?? null,
            rateLimitWindowSeconds: settings.rateLimit?.windowSeconds ?? null,
            imported: false,
          },
          hashKey(secret, hashSecret),
        );
        await recordAuditEvent(tx, {
          action: "key.created",
          actor,
          targetKeyId: row.id,
          targetUserId: owner.id,
          changes: auditableSettings(row),
        });
        return row;
      });
      return { apiKey, secret };
    },
  };
}

/** A key's settings as the audit trail records them: never the secret or its hash. */
export function auditableSettings(row: ApiKeyRow) {
  return {
    name: row.name,
    description: row.description,
    clientType: row.clientType,
    scopes: row.scopes,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    active: row.active,
    rateLimit: row.rateLimitLimit === null ? null : { limit: row.rateLimitLimit, windowSeconds: row.rateLimitWindowSeconds },
  };
}

async function countLiveKeys(db: Db, userId: string, now: number): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, new Date(now)))));
  return row?.n ?? 0;
}
