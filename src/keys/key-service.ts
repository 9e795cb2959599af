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
import { checkId, checkListSize, checkPage, createdAtCursor, toConnection, type Connection } from "../pagination.ts";
import { InputError, NotFoundError } from "../errors.ts";
import type { RateLimitPolicy } from "../limits/rate-limit.ts";
import { findUserById, findUserForUpdate } from "../users/user-repository.ts";
import { classifyKey, generateKey, hashKey, isValidImportedValue, keyStart } from "./key-format.ts";
import {
  checkClientType, checkDescription, checkExpiry, checkImportedValue, checkName, checkRateLimit, checkScopes, type RateLimitInput,
} from "./key-input.ts";
import {
  checkAdmin, checkGrant, checkKeyListVisible, checkKeyManageable, checkKeyVisible, checkOwnerChoice, checkRevival, switchChange, type Grant,
  type Grantable,
  grantableBy,
  type PermissionContext,
} from "./key-permissions.ts";
import { rateLimitOfRow } from "./key-powers.ts";
import {
  countLiveKeys, findKeyById, findKeyForUpdate, findKeyIdBySecretHash, hasLiveImportedSecret, insertKey, listKeysOfUserWithStatus, pageKeys, replaceSecret,
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
  /** What `rateLimit: null` means: the most a key without its own limit may be used. @default 1000 per 60 s */
  defaultRateLimit?: RateLimitPolicy;
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
  const defaultRateLimit = options.defaultRateLimit ?? defaultConfig.limits.rateLimit;
  const permissionContext = (): PermissionContext => ({ now: clock.now(), defaultRateLimit });

  /**
   * The per-user limit on live keys, counted under a lock of the owner's row: parallel creations
   * (and revivals) of one user's keys take turns, so none counts before another has inserted.
   * Returns the locked owner.
   */
  async function checkRoomForLiveKey(tx: Db, userId: string, now: number, field: string): Promise<UserRow> {
    const owner = await findUserForUpdate(tx, userId);
    if (!owner) throw new InputError("userId", "No user has this id.");
    if ((await countLiveKeys(tx, owner.id, now)) >= maxKeysPerUser) {
      throw new InputError(field, `This user already holds the maximum of ${maxKeysPerUser} live keys.`);
    }
    return owner;
  }

  /** Checks settings, permissions and the per-user limit; inserts the key and its audit event. */
  async function insertChecked(principal: Principal, userId: string, input: KeySettingsInput, value: string, action: AuditAction): Promise<ApiKeyRow> {
    const now = clock.now();
    const settings = checkSettings(input, now);
    return db.transaction(async (tx) => {
      const owner = await checkRoomForLiveKey(tx, userId, now, "userId");
      checkGrant(principal, owner, settings, { now, defaultRateLimit });
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

  /**
   * Loads a key the principal may see and manage, locked, inside a transaction; evicts it after
   * commit. A revoked key is refused, or (`whenRevoked: "unchanged"`, revoke is idempotent) returned.
   */
  async function changeKey(
    principal: Principal,
    id: string,
    change: (tx: Db, key: ApiKeyRow, owner: UserRow) => Promise<ApiKeyRow>,
    whenRevoked: "refuse" | "unchanged" = "refuse",
  ): Promise<ApiKeyRow> {
    const keyId = checkId("id", id);
    let imported = false;
    const row = await db.transaction(async (tx) => {
      const key = await findKeyForUpdate(tx, keyId);
      checkKeyVisible(principal, key);
      if (key.revokedAt) {
        if (whenRevoked === "unchanged") return key;
        throw new InputError("id", "This key is revoked; revocation is final.");
      }
      const owner = (await findUserById(tx, key.userId))!;
      checkKeyManageable(principal, key, owner, permissionContext());
      // A change that ends an imported secret (rotation, revocation) changes every verifier's
      // answer to "do imported keys exist?", on every instance.
      const hadImported = await hasLiveImportedSecret(tx, key.id, clock.now());
      const changed = await change(tx, key, owner);
      if (changed === key) return key;
      imported = hadImported;
      await announceChange(tx, { keyId: key.id, imported });
      return changed;
    });
    cache.evictKey(row.id);
    if (imported) options.verifier?.forgetImportedKeys();
    return row;
  }

  /** Every list of a user's keys, whichever field asks: own keys need keys:self, others' admin power. */
  async function listKeys(principal: Principal, userId: string, status: KeyStatusFilter | null | undefined, last: number | null | undefined): Promise<ApiKeyRow[]> {
    if (checkKeyListVisible(principal, userId) === "hidden") return [];
    return listKeysOfUserWithStatus(db, userId, status, clock.now(), checkListSize("last", last));
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
    /** Caller.grantable: what this principal may give keys of `owner`, as checkGrant decides. */
    grantable(principal: Principal, owner: UserRow): Grantable {
      return grantableBy(principal, owner, permissionContext());
    },

    /** createApiKey: your own key within your powers, or (admins and the CLI) anyone's. */
    async createKey(principal: Principal, input: CreateKeyInput): Promise<IssuedKey> {
      const userId = checkOwnerChoice(principal, input.userId != null ? checkId("userId", input.userId) : null);
      const secret = generateKey(keyPrefix);
      const apiKey = await insertChecked(principal, userId, input, secret, "key.created");
      return { apiKey, secret };
    },

    /** importApiKey (admins): a key whose value was chosen elsewhere. */
    async importKey(principal: Principal, input: ImportKeyInput): Promise<ApiKeyRow> {
      checkAdmin(principal);
      const userId = checkId("userId", input.userId);
      checkImportedValue("value", input.value, keyPrefix);
      const row = await insertChecked(principal, userId, input, input.value, "key.imported");
      // Other instances learn of it within their cache lifetime (KEYSCOPE_CACHE_TTL_SECONDS).
      options.verifier?.forgetImportedKeys();
      return row;
    },

    async updateKey(principal: Principal, id: string, input: UpdateKeyInput): Promise<ApiKeyRow> {
      const { grant, active } = checkUpdate(input, clock.now());
      return changeKey(principal, id, async (tx, key, owner) => {
        const now = clock.now();
        checkRevival(principal, key, { ...grant, ...(active !== undefined ? { active } : {}) }, now);
        checkGrant(principal, owner, grant, { now, defaultRateLimit });
        const changes: Partial<ApiKeyRow> = { ...rowChanges(grant), ...(active !== undefined ? switchChange(principal, key, active) : {}) };
        const after = { ...key, ...changes };
        const diff = changedFields(auditableSettings(key), auditableSettings(after));
        if (Object.keys(diff).length === 0) return key;
        if (!isLive(key, now) && isLive(after, now)) await checkRoomForLiveKey(tx, key.userId, now, "expiresAt");
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
      return changeKey(principal, id, (tx, key) => revoke(tx, principal, key), "unchanged");
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
      let revokedNow = false;
      const apiKey = await changeKey(
        principal,
        keyId,
        (tx, key) => {
          revokedNow = true;
          return revoke(tx, principal, key);
        },
        "unchanged",
      );
      const owner = (await findUserById(db, apiKey.userId))!;
      return { apiKey, owner, alreadyRevoked: !revokedNow };
    },

    /** apiKey(id): yours, or anyone's for admins; otherwise NotFound, as for an unknown id. */
    async getKey(principal: Principal, id: string): Promise<ApiKeyRow> {
      const key = await findKeyById(db, checkId("id", id));
      checkKeyVisible(principal, key);
      return key;
    },

    /** myApiKeys: the newest `last` (default and at most 100) of your keys. Needs keys:self. */
    async listOwnKeys(principal: Principal, status: KeyStatusFilter | null | undefined, last?: number | null): Promise<ApiKeyRow[]> {
      return listKeys(principal, principal.userId!, status, last);
    },

    /**
     * User.apiKeys: the newest `last` (default and at most 100) of a user's keys. Your own need
     * keys:self; anyone else's admin power (without it: none, as for a user with no keys).
     */
    async listKeysOfUser(principal: Principal, userId: string, status: KeyStatusFilter | null | undefined, last?: number | null): Promise<ApiKeyRow[]> {
      return listKeys(principal, userId, status, last);
    },

    /** apiKeys (admins): every key, filtered, a page at a time. */
    async pageKeys(principal: Principal, filter: KeyListFilter, first: number | null | undefined, after: string | null | undefined): Promise<Connection<ApiKeyRow>> {
      checkAdmin(principal);
      const page = checkPage(first, after);
      const checked = {
        ...filter,
        userId: filter.userId != null ? checkId("filter.userId", filter.userId) : null,
        clientType: filter.clientType != null ? checkClientType("filter.clientType", filter.clientType) : null,
      };
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

/**
 * Only the fields given, checked: what the update gives the key (for the permissions) and the
 * switch. null clears expiry and rate limit, and is refused where it means nothing.
 */
function checkUpdate(input: UpdateKeyInput, now: number): { grant: Grant & { name?: string; description?: string | null }; active?: boolean } {
  const grant: Grant & { name?: string; description?: string | null } = {};
  if (input.name !== undefined) {
    if (input.name === null) throw new InputError("name", "The name must not be blank.");
    grant.name = checkName("name", input.name);
  }
  if (input.description !== undefined) grant.description = checkDescription("description", input.description);
  if (input.expiresAt !== undefined) grant.expiresAt = checkExpiry("expiresAt", input.expiresAt, now);
  if (input.scopes !== undefined) {
    if (input.scopes === null) throw new InputError("scopes", "scopes must be a list (it may be empty).");
    grant.scopes = checkScopes("scopes", input.scopes);
  }
  if (input.clientType !== undefined) {
    if (input.clientType === null) throw new InputError("clientType", "A key must have a client type.");
    grant.clientType = checkClientType("clientType", input.clientType);
  }
  if (input.rateLimit !== undefined) grant.rateLimit = checkRateLimit("rateLimit", input.rateLimit);
  if (input.active === undefined) return { grant };
  if (input.active === null) throw new InputError("active", "active must be true or false.");
  return { grant, active: input.active };
}

/** The columns an update's grant writes. */
function rowChanges(grant: Grant & { name?: string; description?: string | null }): Partial<ApiKeyRow> {
  const { rateLimit, scopes, ...rest } = grant;
  return {
    ...rest,
    ...(scopes !== undefined ? { scopes: [...scopes] } : {}),
    ...(rateLimit !== undefined ? { rateLimitLimit: rateLimit?.limit ?? null, rateLimitWindowSeconds: rateLimit?.windowSeconds ?? null } : {}),
  };
}

/** Counted by the per-user limit: neither revoked nor expired. */
function isLive(key: Pick<ApiKeyRow, "revokedAt" | "expiresAt">, now: number): boolean {
  return key.revokedAt === null && (key.expiresAt === null || key.expiresAt.getTime() > now);
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
    switchedOffBy: row.switchedOffBy,
    rateLimit: rateLimitOfRow(row),
  };
}
