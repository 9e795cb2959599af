// Proof that nothing touched the database: counts what a drizzle database is asked to run.
import type { Db } from "../../src/db/client.ts";

/** The session methods every drizzle query, statement and transaction goes through. */
const ENTRY_POINTS = ["prepareQuery", "execute", "all", "count", "transaction"] as const;

/**
 * Counts calls into the database's session from now until `stop()`. A test that asserts zero
 * must also see the counter move for a request that does reach the database (see its use).
 */
export function countDatabaseCalls(db: Db): { count(): number; stop(): void } {
  const session = (db as unknown as { session: Record<string, unknown> }).session;
  let calls = 0;
  const patched: { name: string; own: boolean; original: unknown }[] = [];
  for (const name of ENTRY_POINTS) {
    const original = session[name];
    if (typeof original !== "function") continue;
    patched.push({ name, own: Object.hasOwn(session, name), original });
    session[name] = function (this: unknown, ...args: unknown[]) {
      calls++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return {
    count: () => calls,
    stop: () => {
      for (const { name, own, original } of patched) {
        if (own) session[name] = original;
        else delete session[name];
      }
    },
  };
}
