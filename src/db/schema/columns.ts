import { timestamp } from "drizzle-orm/pg-core";

/** A timestamptz column read as a JS Date; milliseconds, as Dates hold, so values round-trip (cursors). */
export const timestampTz = (name: string) => timestamp(name, { withTimezone: true, mode: "date", precision: 3 });

/** `created_at` / `updated_at`, both set by the database on insert. */
export const timestamps = {
  createdAt: timestampTz("created_at").notNull().defaultNow(),
  updatedAt: timestampTz("updated_at").notNull().defaultNow(),
};
