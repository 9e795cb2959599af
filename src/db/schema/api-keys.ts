import { sql } from "drizzle-orm";
import { boolean, index, integer, pgEnum, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { timestampTz, timestamps } from "./columns.ts";
import { users } from "./users.ts";

/** Who switched a key off: with admin power (an admin key, the operator CLI), or the owner without it. */
export const switchedOffByEnum = pgEnum("switched_off_by", ["ADMIN", "OWNER"]);

/** One API key: its settings. Its secrets (hashes) live in key_secrets. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    name: text("name").notNull(),
    description: text("description"),
    clientType: text("client_type").notNull(),
    scopes: text("scopes").array().notNull().default(sql`'{}'::text[]`),
    /** First characters of the current secret, safe to show. */
    start: text("start").notNull(),
    /** The reversible on/off switch. */
    active: boolean("active").notNull().default(true),
    /** Null while the key is on. A key switched off by ADMIN is switched on only with admin power. */
    switchedOffBy: switchedOffByEnum("switched_off_by"),
    /** Null: never expires. */
    expiresAt: timestampTz("expires_at"),
    /** Set once; revocation is final. */
    revokedAt: timestampTz("revoked_at"),
    lastUsedAt: timestampTz("last_used_at"),
    /** Both null: the server default applies. */
    rateLimitLimit: integer("rate_limit_limit"),
    rateLimitWindowSeconds: integer("rate_limit_window_seconds"),
    /** Its current secret is a value an admin chose (importApiKey), not in the generated format. */
    imported: boolean("imported").notNull().default(false),
    ...timestamps,
  },
  (t) => [index("api_keys_user_id_idx").on(t.userId)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
