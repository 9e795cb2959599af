import { integer, pgTable, primaryKey, uuid } from "drizzle-orm/pg-core";
import { timestampTz } from "./columns.ts";
import { apiKeys } from "./api-keys.ts";

/** Requests per key per hour, added to by every instance with atomic upserts. */
export const keyUsage = pgTable(
  "key_usage",
  {
    keyId: uuid("key_id")
      .notNull()
      .references(() => apiKeys.id),
    /** Start of the hour (UTC). */
    hour: timestampTz("hour").notNull(),
    requests: integer("requests").notNull().default(0),
    /** Refused by rate limit, scope or client type (counted once per request). */
    rejected: integer("rejected").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.hour], name: "key_usage_pk" })],
);

export type KeyUsageRow = typeof keyUsage.$inferSelect;
