import { and, eq, sql } from "drizzle-orm";
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

export async function adminExists(db: Db): Promise<boolean> {
  const [row] = await db.select({ id: users.id }).from(users).where(and(eq(users.role, "ADMIN"))).limit(1);
  return row !== undefined;
}
