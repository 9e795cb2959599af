import { sql } from "drizzle-orm";
import { boolean, pgEnum, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { timestamps } from "./columns.ts";

export const roleEnum = pgEnum("role", ["ADMIN", "MEMBER"]);

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /**
     * Normalised by the user service (NFKC, lower case, trimmed) before it is stored or compared;
     * the unique index on lower(email) also holds rows from before normalisation (migration 0004).
     */
    email: text("email").notNull(),
    name: text("name"),
    role: roleEnum("role").notNull().default("MEMBER"),
    /** Client types this user may give to keys they create themselves (set by admins). */
    clientTypes: text("client_types").array().notNull().default(sql`'{}'::text[]`),
    /** A disabled user's keys stop working at once. */
    disabled: boolean("disabled").notNull().default(false),
    ...timestamps,
  },
  (t) => [uniqueIndex("users_email_lower_idx").on(sql`lower(${t.email})`)],
);

export type UserRow = typeof users.$inferSelect;
