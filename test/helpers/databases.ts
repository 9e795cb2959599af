import { randomBytes } from "node:crypto";
import postgres from "postgres";

export type DatabaseKind = "pglite" | "postgres";

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). */
export const databaseKinds: DatabaseKind[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

export interface TestDatabase {
  kind: DatabaseKind;
  /** Options for createKeyscopeServer / openDatabase. */
  options: { databaseUrl?: string; dataDir?: string };
  drop(): Promise<void>;
}

/** A database no other test has touched: in-memory PGlite, or a new PostgreSQL database. */
export async function freshDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === "pglite") return { kind, options: { dataDir: "memory://" }, drop: async () => {} };
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `keyscope_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    options: { databaseUrl: url.toString() },
    drop: async () => {
      const again = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await again.unsafe(`drop database if exists "${name}" with (force)`);
      await again.end();
    },
  };
}
