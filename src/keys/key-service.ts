import { changedFields } from "../audit/changed-fields.ts";
import { recordAuditEvent, type AuditAction } from "../audit/audit-repository.ts";
import { announceChange } from "../auth/cache-invalidation.ts";
import type { KeyCache } from "../auth/key-cache.ts";
import type { Principal } from "../auth/principal.ts";
import type { KeyVerifier } from "../auth/verify-key.ts";
import { systemClock, type Clock } from "../clock.ts";
import { defaultConfig } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { ApiKeyRow, UserRow } from "../db/schema/index.ts";
import { checkId, checkPage, createdAtCursor, toConnection, type Connection } from "../pagination.ts";
import { InputError, NotFoundError } from "../errors.ts";
import { findUserById } from "../users/user-repository.ts";
import { classifyKey, generateKey, hashKey, isValidImportedValue, keyStart } from "./key-format.ts";
import {
  checkClientType, checkDescription, checkExpiry, checkName, checkRateLimit, checkScopes, type RateLimitInput,
} from "./key-input.ts";
import { checkAdmin, checkGrant, checkKeyManageable, checkKeyVisible, checkOwnerChoice } from "./key-permissions.ts";
import {
  countLiveKeys, findKeyById, findKeyForUpdate, findKeyIdBySecretHash, insertKey, listKeysOfUserWithStatus, pageKeys, replaceSecret,
  secretHashExists, updateKey, type KeyListFilter, type KeyStatusFilter,
} from "./key-repository.ts";

export interface KeyServiceOptions {
  db: Db;
  /** Shared with the verifier: what the service changes, it evicts. */
  cache: KeyCache;
  /** @default systemClock */
  clock?: Clock;
  /** @default "ks" */
  keyPrefix?: string;
  /** @default undefined (plain SHA-256) */
  hashSecret?: string | undefined;
  /** Live (unrevoked, unexpired) keys one user may hold. @default 100 */
  maxKeysPerUser?: number;
  /** Told when imported keys come or go, so that it looks up non-prefixed strings only then. */
  verifier?: Pick<KeyVerifier, "forgetImportedKeys">;
}

export interface KeySettingsInput {
  name: string;
  description?: string | null;
  clientType: string;
  scopes?: readonly string[] | null;
  expiresAt?: Date | null;
  rateLimit?: RateLimitInput | null;
}

export interface CreateKeyInput extends KeySettingsInput {
  /** Admins only, to issue a key to another user; others may leave it out or name themselves. */
  userId?: string | null;
}

export interface ImportKeyInput extends KeySettingsInput {
  userId: string;
  value: string;
}

/** Fields present are changed; `expiresAt: null` means never, `rateLimit: null` the server default. */
export interface UpdateKeyInput {
  name?: string | null;
  description?: string | null;
  expiresAt?: Date | null;
  active?: boolean | null;
  scopes?: readonly string[] | null;
  clientType?: string | null;
  rateLimit?: RateLimitInput | null;
}

/** A key with its secret: the only time the secret exists outside the caller's hands. */
export interface IssuedKey {
  apiKey: ApiKeyRow;
  secret: string;
}

/** A key revoked from its secret, with its owner. */
export interface RevokedBySecret {
  apiKey: ApiKeyRow;
  owner: UserRow;
  /** It was revoked before (nothing changed this time). */
  alreadyRevoked: boolean;
}

/** The longest grace period a rotation may leave the old secret. */
export const MAX_GRACE_PERIOD_SECONDS = 30 * 24 * 3600;

export type KeyService = ReturnType<typeof createKeyService>;

/**
 * Everything done to keys. Each change and its audit event share one transaction, and the
 * change is evicted from the key cache right after it commits.
 */
export function createKeyService(options: KeyServiceOptions) {
  const { db, cache, clock = systemClock, keyPrefix = defaultConfig.keyPrefix, hashSecret } = options;
  const maxKeysPerUser = options.maxKeysPerUser ?? defaultConfig.limits.maxKeysPerUser;

  /** Checks settings, permissions and the per-user limit; inserts the key and its audit event. */
  async function insertChecked(principal: Principal, userId: string, input: KeySettingsInput, value: string, action: AuditAction): Promise<ApiKeyRow> {
    const now = clock.now();
    const settings = checkSettings(input, now);
    return db.transaction(async (tx) => {
      const owner = await findUserById(tx, userId);
      if (!owner) throw new InputError("userId", "No user has this id.");
      checkGrant(principal, owner, settings);
      if ((await countLiveKeys(tx, owner.id, now)) >= maxKeysPerUser) {
        throw new InputError("userId", `This user already holds the maximum of ${maxKeysPerUser} live keys.`);
      }
      const hash = hashKey(value, hashSecret);
      if (action === "key.imported" && (await secretHashExists(tx, hash))) throw new InputError("value", "This value is already in use by a key.");
      const row = await insertKey(
        tx,
        {
          userId: owner.id,
          name: settings.name,
          description: settings.description,
          clientType: settings.clientType,
          scopes: settings.scopes,
          start: keyStart(value, keyPrefix),
          expiresAt: settings.expiresAt,
          rateLimitLimit: settings.rateLimit?.limit ?? null,
          rateLimitWindowSeconds: settings.rateLimit?.windowSeconds ?? null,
          imported: action === "key.imported",
        },
        hash,
      );
      await recordAuditEvent(tx, { action, actor: principal, targetKeyId: row.id, targetUserId: owner.id, changes: auditableSettings(row) });
      return row;
    });
  }

  /** Loads a key the principal may see, locked, inside a transaction; evicts it after commit. */
  async function changeKey(principal: Principal, id: string, change: (tx: Db, key: ApiKeyRow, owner: UserRow) => Promise<ApiKeyRow>): Promise<ApiKeyRow> {
    const keyId = checkId("id", id);
    const row = await db.transaction(async (tx) => {
      const key = await findKeyForUpdate(tx, keyId);
      checkKeyVisible(principal, key);
      const owner = (await findUserById(tx, key.userId))!;
      const changed = await change(tx, key, owner);
      if (changed !== key) await announceChange(tx, { keyId: key.id, imported: key.imported });
      return changed;
    });
    cache.evictKey(row.id);
    if (row.imported) options.verifier?.forgetImportedKeys();
    return row;
  }

  async function revoke(tx: Db, principal: Principal, key: ApiKeyRow): Promise<ApiKeyRow> {
    const revokedAt = new Date(clock.now());
    const row = await updateKey(tx, key.id, { revokedAt });
    await recordAuditEvent(tx, {
      action: "key.revoked", actor: principal, targetKeyId: key.id, targetUserId: key.userId,
      changes: { revokedAt: { from: null, to: revokedAt.toISOString() } },
    });
    return row;
  }

  return {
    /** createApiKey: your own key within your powers, or (admins and the CLI) anyone's. */
    async createKey(principal: Principal, input: CreateKeyInput): Promise<IssuedKey> {
      const userId = checkOwnerChoice(principal, input.userId ? checkId("userId", input.userId) : null);
      const secret = generateKey(keyPrefix);
      const apiKey = await insertChecked(principal, userId, input, secret, "key.created");
      return { apiKey, secret };
    },

    /** importApiKey (admins): a key whose value was chosen elsewhere. */
    async importKey(principal: Principal, input: ImportKeyInput): Promise<ApiKeyRow> {
      checkAdmin(principal);
      const userId = checkId("userId", input.userId);
      if (!isValidImportedValue(input.value)) {
        throw new InputError("value", "An imported key is 16 to 256 characters without blanks or control characters.");
      }
      if (input.value.startsWith(`${keyPrefix}_`)) {
        throw new InputError("value", `An imported key must not begin with this server's prefix '${keyPrefix}_'.`);
      }
      const row = await insertChecked(principal, userId, input, input.value, "key.imported");
      // Other instances learn of it within their cache lifetime (KEYSCOPE_CACHE_TTL_SECONDS).
      options.verifier?.forgetImportedKeys();
      return row;
    },

    async updateKey(principal: Principal, id: string, input: UpdateKeyInput): Promise<ApiKeyRow> {
      const changes = checkUpdate(input, clock.now());
      return changeKey(principal, id, async (tx, key, owner) => {
        if (key.revokedAt) throw new InputError("id", "This key is revoked; revocation is final.");
        checkKeyManageable(principal, key);
        checkGrant(principal, owner, { scopes: changes.scopes, clientType: changes.clientType });
        const diff = changedFields(auditableSettings(key), auditableSettings({ ...key, ...changes }));
        if (Object.keys(diff).length === 0) return key;
        const row = await updateKey(tx, key.id, changes);
        await recordAuditEvent(tx, { action: "key.updated", actor: principal, targetKeyId: key.id, targetUserId: key.userId, changes: diff });
        return row;
      });
    },

    /** A new secret for the same key; the old one works `gracePeriodSeconds` more, never past expiry. */
    async rotateKey(principal: Principal, id: string, gracePeriodSeconds: number): Promise<IssuedKey> {
      if (!Number.isInteger(gracePeriodSeconds) || gracePeriodSeconds < 0 || gracePeriodSeconds > MAX_GRACE_PERIOD_SECONDS) {
        throw new InputError("gracePeriodSeconds", `gracePeriodSeconds must be a whole number from 0 to ${MAX_GRACE_PERIOD_SECONDS}.`);
      }
      const secret = generateKey(keyPrefix);
      const apiKey = await changeKey(principal, id, async (tx, key) => {
        const now = clock.now();
        if (key.revokedAt) throw new InputError("id", "This key is revoked; revocation is final.");
        checkKeyManageable(principal, key);
        if (key.expiresAt && key.expiresAt.getTime() <= now) throw new InputError("id", "This key has expired; issue a new one.");
        const graceEnd = Math.min(now + gracePeriodSeconds * 1000, key.expiresAt?.getTime() ?? Infinity);
        await replaceSecret(tx, key.id, hashKey(secret, hashSecret), new Date(graceEnd), new Date(now));
        const row = await updateKey(tx, key.id, { start: keyStart(secret, keyPrefix), imported: false });
        await recordAuditEvent(tx, {
          action: "key.rotated", actor: principal, targetKeyId: key.id, targetUserId: key.userId,
          changes: { gracePeriodSeconds, oldSecretValidUntil: new Date(graceEnd).toISOString(), start: { from: key.start, to: row.start } },
        });
        return row;
      });
      return { apiKey, secret };
    },

    /** Final and idempotent: revoking a revoked key returns it unchanged. */
    async revokeKey(principal: Principal, id: string): Promise<ApiKeyRow> {
      return changeKey(principal, id, async (tx, key) => (key.revokedAt ? key : revoke(tx, principal, key)));
    },

    /**
     * A leaked secret's key, found by the secret's hash as the verifier finds it, revoked (admins
     * and the CLI). An old secret kept after a rotation revokes its key too. The secret is never
     * stored, logged or returned.
     */
    async revokeKeyBySecret(principal: Principal, secret: string): Promise<RevokedBySecret> {
      checkAdmin(principal);
      checkSecretShape(secret, keyPrefix);
      const keyId = await findKeyIdBySecretHash(db, hashKey(secret, hashSecret));
      if (!keyId) throw new NotFoundError(SECRET_NOT_FOUND);
      let found: { owner: UserRow; alreadyRevoked: boolean } | undefined;
      const apiKey = await changeKey(principal, keyId, async (tx, key, owner) => {
        found = { owner, alreadyRevoked: key.revokedAt !== null };
        return key.revokedAt ? key : revoke(tx, principal, key);
      });
      return { apiKey, ...found! };
    },

    /** apiKey(id): yours, or anyone's for admins; otherwise NotFound, as for an unknown id. */
    async getKey(principal: Principal, id: string): Promise<ApiKeyRow> {
      const key = await findKeyById(db, checkId("id", id));
      checkKeyVisible(principal, key);
      return key;
    },

    async listOwnKeys(principal: Principal, status: KeyStatusFilter | null | undefined): Promise<ApiKeyRow[]> {
      return listKeysOfUserWithStatus(db, principal.userId!, status, clock.now());
    },

    /** Keys of one user, for User.apiKeys: admins, or the user themselves. */
    async listKeysOfUser(principal: Principal, userId: string, status: KeyStatusFilter | null | undefined): Promise<ApiKeyRow[]> {
      if (!principal.admin && principal.userId !== userId) return [];
      return listKeysOfUserWithStatus(db, userId, status, clock.now());
    },

    /** apiKeys (admins): every key, filtered, a page at a time. */
    async pageKeys(principal: Principal, filter: KeyListFilter, first: number | null | undefined, after: string | null | undefined): Promise<Connection<ApiKeyRow>> {
      checkAdmin(principal);
      const page = checkPage(first, after);
      const checked = { ...filter, userId: filter.userId ? checkId("filter.userId", filter.userId) : null };
      const cursor = page.after ? createdAtCursor.decode(page.after) : null;
      const { rows, total } = await pageKeys(db, checked, clock.now(), page.first + 1, cursor);
      return toConnection(rows, page.first, total, createdAtCursor.encode);
    },
  };
}

const SECRET_NOT_FOUND =
  "No key has this secret: it was never issued here, or belongs to another Keyscope " +
  "(a command line that opens the database itself needs the server's KEYSCOPE_HASH_SECRET).";

/** Refuses, before any look-up, a string that cannot be a key of this server. */
function checkSecretShape(secret: string, keyPrefix: string): void {
  if (classifyKey(secret, keyPrefix).kind !== "malformed") return;
  throw new InputError(
    "secret",
    secret.startsWith(`${keyPrefix}_`)
      ? `This begins with '${keyPrefix}_' but is not a valid key (its length, characters or checksum are wrong): check that it was copied whole.`
      : `This is not a key: neither a Keyscope key ('${keyPrefix}_…') nor an imported key's value (16 to 256 characters without blanks).`,
  );
}

function checkSettings(input: KeySettingsInput, now: number) {
  return {
    name: checkName("name", input.name),
    description: checkDescription("description", input.description),
    clientType: checkClientType("clientType", input.clientType),
    scopes: checkScopes("scopes", input.scopes),
    expiresAt: checkExpiry("expiresAt", input.expiresAt, now),
    rateLimit: checkRateLimit("rateLimit", input.rateLimit),
  };
}

/** Only the fields given; null clears expiry and rate limit, and is refused where it means nothing. */
function checkUpdate(input: UpdateKeyInput, now: number) {
  const changes: Partial<ApiKeyRow> & { scopes?: string[]; clientType?: string } = {};
  if (input.name !== undefined) {
    if (input.name === null) throw new InputError("name", "The name must not be blank.");
    changes.name = checkName("name", input.name);
  }
  if (input.description !== undefined) changes.description = checkDescription("description", input.description);
  if (input.expiresAt !== undefined) changes.expiresAt = checkExpiry("expiresAt", input.expiresAt, now);
  if (input.active !== undefined) {
    if (input.active === null) throw new InputError("active", "active must be true or false.");
    changes.active = input.active;
  }
  if (input.scopes !== undefined) {
    if (input.scopes === null) throw new InputError("scopes", "scopes must be a list (it may be empty).");
    changes.scopes = checkScopes("scopes", input.scopes);
  }
  if (input.clientType !== undefined) {
    if (input.clientType === null) throw new InputError("clientType", "A key must have a client type.");
    changes.clientType = checkClientType("clientType", input.clientType);
  }
  if (input.rateLimit !== undefined) {
    const rateLimit = checkRateLimit("rateLimit", input.rateLimit);
    changes.rateLimitLimit = rateLimit?.limit ?? null;
    changes.rateLimitWindowSeconds = rateLimit?.windowSeconds ?? null;
  }
  return changes;
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
