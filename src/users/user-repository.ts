import { and, count, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { users, type UserRow } from "../db/schema/index.ts";

export interface NewUser {
  email: string;
  name: string | null;
  role: "ADMIN" | "MEMBER";
  clientTypes: string[];
}

export async function insertUser(db: Db, user: NewUser): Promise<UserRow> {
  const [row] = await db.insert(users).values(user).returning();
  return row!;
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(sql`lower(${users.email})`, email.toLowerCase()));
  return row;
}

/** An enabled ADMIN user exists (a disabled one cannot act, so bootstrap may make another). */
export async function adminExists(db: Db): Promise<boolean> {
  const [row] = await db.select({ id: users.id }).from(users).where(and(eq(users.role, "ADMIN"), eq(users.disabled, false))).limit(1);
  return row !== undefined;
}

export async function updateUserRow(db: Db, id: string, changes: Partial<typeof users.$inferInsert>): Promise<UserRow> {
  const [row] = await db.update(users).set({ ...changes, updatedAt: sql`now()` }).where(eq(users.id, id)).returning();
  return row!;
}

export async function findUserForUpdate(db: Db, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).for("update");
  return row;
}

/** Enabled ADMIN users, locked: two admins cannot demote each other into having none. */
export async function lockActiveAdmins(db: Db): Promise<{ id: string }[]> {
  return db.select({ id: users.id }).from(users).where(and(eq(users.role, "ADMIN"), eq(users.disabled, false))).for("update");
}

/** Up to `limit` users after the cursor, in creation order, and how many there are. */
export async function pageUsers(db: Db, limit: number, after: { createdAt: Date; id: string } | null): Promise<{ rows: UserRow[]; total: number }> {
  // ISO string, not a Date: drizzle's postgres.js driver cannot send a Date inside raw sql``.
  const afterCursor = after ? sql`(${users.createdAt}, ${users.id}) > (${after.createdAt.toISOString()}::timestamptz, ${after.id}::uuid)` : undefined;
  const [rows, [counted]] = await Promise.all([
    db.select().from(users).where(afterCursor).orderBy(users.createdAt, users.id).limit(limit),
    db.select({ n: count() }).from(users),
  ]);
  return { rows, total: counted?.n ?? 0 };
}
