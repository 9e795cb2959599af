import { systemClock, type Clock } from "../clock.ts";
import { defaultConfig } from "../config.ts";
import type { Db } from "../db/client.ts";
import { findCredentialsByHashes, liveImportedSecrets } from "../keys/key-repository.ts";
import { classifyKey, hashKey } from "../keys/key-format.ts";
import type { KeyFailureReason } from "../errors.ts";
import { noopMetrics, type KeyCheckSource, type Metrics } from "../metrics.ts";
import { ADMIN_SCOPE, type AuthenticatedKey, type Credential } from "./credential.ts";
import { createBatchedLookup } from "./batched-lookup.ts";
import type { CacheEntry, KeyCache } from "./key-cache.ts";

export type VerificationFailure = Exclude<KeyFailureReason, "AMBIGUOUS_KEY">;

/** An invalid key is a value, not an exception; only an unreachable key store throws. */
export type Verification = { ok: true; key: AuthenticatedKey } | { ok: false; reason: VerificationFailure };

export class KeyStoreUnavailableError extends Error {
  override name = "KeyStoreUnavailableError";
}

export interface KeyVerifierOptions {
  db: Db;
  /** Shared with the key and user services, which evict what they change. */
  cache: KeyCache;
  /** @default systemClock */
  clock?: Clock;
  /** @default "ks" */
  keyPrefix?: string;
  /** @default undefined (plain SHA-256) */
  hashSecret?: string | undefined;
  /** How long the answer to "do imported keys exist?" is trusted. @default the cache's lifetime */
  cacheTtlSeconds?: number;
  /** Told of each answer and what decided it, and of each database look-up's time. @default noopMetrics */
  metrics?: Pick<Metrics, "keyChecked" | "keyLookedUp">;
}

export interface KeyVerifier {
  verify(presented: string): Promise<Verification>;
  /**
   * The answer without I/O when the format or the cache decides it; undefined when the store
   * must be asked. `connection` (the socket) lets a keep-alive client's repeated key skip the
   * checksum and the hash.
   */
  verifyWithoutIo(presented: string, connection?: object): Verification | undefined;
  /** Forget the imported-keys answer (after an import, or a rotation or revocation of a key with an imported secret). */
  forgetImportedKeys(): void;
}

/** The last key a connection presented and the cache entry it found. */
interface Remembered {
  presented: string;
  entry: CacheEntry;
  generation: number;
}

/** Checks a presented key: format and checksum first (no I/O), then cache, then database. */
export function createKeyVerifier(options: KeyVerifierOptions): KeyVerifier {
  const { db, cache, clock = systemClock, keyPrefix = defaultConfig.keyPrefix, hashSecret, metrics = noopMetrics } = options;
  // Trusted as long as a cached key: the same bound on how late another instance's change is seen.
  const importedTtlMs = (options.cacheTtlSeconds ?? cache.ttlSeconds) * 1000;
  let imported: { exists: boolean; until: number } | undefined;
  // Clients keep connections open and send the same key on each request: the checksum and the
  // hash are then the bulk of a warm check. The key is held only as long as its socket is.
  const byConnection = new WeakMap<object, Remembered>();
  // The cache misses of one turn of the event loop go to the store as one query.
  const findCredential = createBatchedLookup((hashes) => findCredentialsByHashes(db, hashes));

  async function anyImportedKeys(): Promise<boolean> {
    const now = clock.now();
    if (imported && imported.until > now) return imported.exists;
    const { exist, lastEndsAt } = await ask(() => liveImportedSecrets(db, now));
    // "Yes" holds no longer than the last imported secret does (a rotation's grace period ends).
    imported = { exists: exist, until: Math.min(now + importedTtlMs, lastEndsAt ?? Infinity) };
    return exist;
  }

  /** The answer, counted with what decided it. */
  function counted(verification: Verification, source: KeyCheckSource): Verification {
    metrics.keyChecked(verification.ok ? "OK" : verification.reason, source);
    return verification;
  }

  /** The credential for `hash` and where it came from. */
  async function lookUp(hash: string): Promise<{ credential: Credential | null; source: KeyCheckSource }> {
    const cached = cache.get(hash);
    if (cached) return { credential: cached, source: "cache" };
    const started = performance.now();
    try {
      const credential = await findCredential(hash);
      metrics.keyLookedUp((performance.now() - started) / 1000);
      if (credential) cache.set(hash, credential);
      return { credential, source: "database" };
    } catch (error) {
      const stale = cache.getEvenIfStale(hash);
      if (stale) return { credential: stale, source: "stale_cache" };
      throw new KeyStoreUnavailableError("The key store could not be reached", { cause: error });
    }
  }

  return {
    verifyWithoutIo(presented, connection) {
      const now = clock.now();
      const last = connection && byConnection.get(connection);
      if (last && last.presented === presented && cache.isCurrent(last.entry, last.generation, now)) {
        return counted(judge(last.entry.credential, now), "connection");
      }
      const shape = classifyKey(presented, keyPrefix);
      if (shape.kind === "malformed") return counted(MALFORMED, "none");
      if (shape.kind === "imported") return undefined; // needs "do imported keys exist?"
      const generation = cache.generation;
      const entry = cache.getEntry(hashKey(presented, hashSecret), now);
      if (!entry) return undefined;
      if (connection) byConnection.set(connection, { presented, entry, generation });
      return counted(judge(entry.credential, now), "cache");
    },
    async verify(presented) {
      const shape = classifyKey(presented, keyPrefix);
      if (shape.kind === "malformed") return counted(MALFORMED, "none");
      try {
        if (shape.kind === "imported" && !(await anyImportedKeys())) return counted(MALFORMED, "none");
        const { credential, source } = await lookUp(hashKey(presented, hashSecret));
        if (!credential) return counted(INVALID, source);
        return counted(judge(credential, clock.now()), source);
      } catch (error) {
        if (error instanceof KeyStoreUnavailableError) metrics.keyChecked("KEY_STORE_UNAVAILABLE", "database");
        throw error;
      }
    },
    forgetImportedKeys() {
      imported = undefined;
    },
  };
}

const MALFORMED: Verification = Object.freeze({ ok: false, reason: "KEY_MALFORMED" });
const INVALID: Verification = Object.freeze({ ok: false, reason: "KEY_INVALID" });

/** Whether a credential works at `now`. Pure: the cache holds facts, time is applied here. */
export function judge(credential: Credential, now: number): Verification {
  if (credential.revokedAt !== null && credential.revokedAt <= now) return { ok: false, reason: "KEY_REVOKED" };
  // An old secret after its rotation's grace period is as good as revoked.
  if (credential.secretExpiresAt !== null && credential.secretExpiresAt <= now) return { ok: false, reason: "KEY_REVOKED" };
  if (credential.expiresAt !== null && credential.expiresAt <= now) return { ok: false, reason: "KEY_EXPIRED" };
  if (!credential.active || credential.ownerDisabled) return { ok: false, reason: "KEY_DISABLED" };
  return accepted(credential);
}

// A cached credential is judged at every request; its acceptance need only be built once.
const acceptances = new WeakMap<Credential, Verification>();

function accepted(c: Credential): Verification {
  let verification = acceptances.get(c);
  if (!verification) acceptances.set(c, (verification = { ok: true, key: buildAuthenticatedKey(c) }));
  return verification;
}

function buildAuthenticatedKey(c: Credential): AuthenticatedKey {
  const scopes = new Set(c.scopes);
  // keys:admin counts only while the owner is an ADMIN (SPEC §6).
  if (c.ownerRole !== "ADMIN") scopes.delete(ADMIN_SCOPE);
  return { id: c.keyId, secretId: c.secretId, userId: c.userId, clientType: c.clientType, scopes, ownerRole: c.ownerRole, rateLimit: c.rateLimit };
}

async function ask<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    throw new KeyStoreUnavailableError("The key store could not be reached", { cause: error });
  }
}
