import { boolean, index, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { timestampTz } from "./columns.ts";
import { apiKeys } from "./api-keys.ts";

/**
 * The hashes that open a key. Normally one per key; during a rotation's grace period the old
 * secret stays here with `expiresAt` set until it lapses.
 */
export const keySecrets = pgTable(
  "key_secrets",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    keyId: uuid("key_id")
      .notNull()
      .references(() => apiKeys.id),
    /** Hex HMAC-SHA256 (with the server secret) or SHA-256 of the key; never the key itself. */
    hash: text("hash").notNull().unique("key_secrets_hash_unique"),
    /** Null: valid as long as the key is. Set on the old secret when a key is rotated. */
    expiresAt: timestampTz("expires_at"),
    /**
     * A value an admin chose (importApiKey). While such a secret lives, also during a rotation's
     * grace period, strings without the key prefix are looked up; otherwise they are malformed.
     */
    imported: boolean("imported").notNull().default(false),
    createdAt: timestampTz("created_at").notNull().defaultNow(),
  },
  (t) => [index("key_secrets_key_id_idx").on(t.keyId)],
);

export type KeySecretRow = typeof keySecrets.$inferSelect;
