import { and, eq, sql } from "drizzle-orm";
import type { Credential } from "../auth/credential.ts";
import type { Db } from "../db/client.ts";
import { apiKeys, keySecrets, users, type ApiKeyRow } from "../db/schema/index.ts";

export interface NewKey {
  userId: string;
  name: string;
  description: string | null;
  clientType: string;
  scopes: string[];
  start: string;
  expiresAt: Date | null;
  rateLimitLimit: number | null;
  rateLimitWindowSeconds: number | null;
  imported: boolean;
}

/** Inserts a key and its first secret's hash. Call inside the transaction that audits it. */
export async function insertKey(db: Db, key: NewKey, hash: string): Promise<ApiKeyRow> {
  const [row] = await db.insert(apiKeys).values(key).returning();
  await db.insert(keySecrets).values({ keyId: row!.id, hash });
  return row!;
}

export async function findKeyById(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row;
}

export async function listKeysOfUser(db: Db, userId: string): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(apiKeys.createdAt, apiKeys.id);
}

/** The key a secret opens, with what of its owner decides whether it works; one indexed join. */
export async function findCredentialByHash(db: Db, hash: string): Promise<Credential | null> {
  const [row] = await db
    .select({
      keyId: apiKeys.id,
      userId: apiKeys.userId,
      clientType: apiKeys.clientType,
      scopes: apiKeys.scopes,
      active: apiKeys.active,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      secretExpiresAt: keySecrets.expiresAt,
      ownerRole: users.role,
      ownerDisabled: users.disabled,
      rateLimitLimit: apiKeys.rateLimitLimit,
      rateLimitWindowSeconds: apiKeys.rateLimitWindowSeconds,
    })
    .from(keySecrets)
    .innerJoin(apiKeys, eq(apiKeys.id, keySecrets.keyId))
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(eq(keySecrets.hash, hash));
  if (!row) return null;
  const { rateLimitLimit, rateLimitWindowSeconds, ...rest } = row;
  return {
    ...rest,
    expiresAt: row.expiresAt?.getTime() ?? null,
    revokedAt: row.revokedAt?.getTime() ?? null,
    secretExpiresAt: row.secretExpiresAt?.getTime() ?? null,
    rateLimit:
      rateLimitLimit !== null && rateLimitWindowSeconds !== null
        ? { limit: rateLimitLimit, windowSeconds: rateLimitWindowSeconds }
        : null,
  };
}

/** Whether any unrevoked imported key exists: only then is a non-prefixed string looked up. */
export async function importedKeysExist(db: Db): Promise<boolean> {
  const [row] = await db
    .select({ one: sql<number>`1` })
    .from(apiKeys)
    .where(and(eq(apiKeys.imported, true), sql`${apiKeys.revokedAt} is null`))
    .limit(1);
  return row !== undefined;
}
