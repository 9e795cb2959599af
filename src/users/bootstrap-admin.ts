import { sql } from "drizzle-orm";
import { CLI_PRINCIPAL } from "../auth/principal.ts";
import { ADMIN_SCOPE, SELF_SCOPE } from "../auth/credential.ts";
import { KeyCache } from "../auth/key-cache.ts";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/client.ts";
import { ConflictError } from "../errors.ts";
import { createKeyService, type IssuedKey } from "../keys/key-service.ts";
import { adminExists } from "./user-repository.ts";
import { createUserService } from "./user-service.ts";

export interface BootstrapOptions {
  db: Db;
  /** @default systemClock */
  clock?: Clock;
  /** @default "ks" */
  keyPrefix?: string;
  /** @default undefined (plain SHA-256) */
  hashSecret?: string | undefined;
}

/** The client type of the first admin's key. */
export const BOOTSTRAP_CLIENT_TYPE = "admin";

/**
 * Creates the first admin and a key with keys:admin and keys:self, in one transaction.
 * Refuses (ConflictError) when an admin exists.
 */
export async function bootstrapAdmin(options: BootstrapOptions, email: string): Promise<IssuedKey> {
  return options.db.transaction(async (tx) => {
    // Two bootstraps at once on PostgreSQL: the second waits, then sees the first's admin.
    await tx.execute(sql`select pg_advisory_xact_lock(7428002)`);
    if (await adminExists(tx)) {
      throw new ConflictError("An admin already exists; bootstrap only creates the first one. Ask an admin for a key.");
    }
    // Services of this transaction only; creating evicts nothing, so their cache stays empty.
    const services = { db: tx, cache: new KeyCache({ maxEntries: 1 }), clock: options.clock };
    const user = await createUserService(services).createUser(CLI_PRINCIPAL, { email, role: "ADMIN", clientTypes: [BOOTSTRAP_CLIENT_TYPE] });
    const keys = createKeyService({ ...services, keyPrefix: options.keyPrefix, hashSecret: options.hashSecret, maxKeysPerUser: 1 });
    return keys.createKey(CLI_PRINCIPAL, {
      userId: user.id,
      name: "bootstrap admin key",
      clientType: BOOTSTRAP_CLIENT_TYPE,
      scopes: [ADMIN_SCOPE, SELF_SCOPE],
    });
  });
}
