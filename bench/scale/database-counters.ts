// What the database did, from its own statistics: look-ups through key_secrets' hash index
// (one per key the server asks for) and committed transactions (every statement postgres.js
// sends outside a transaction is one; usage flushes and this reader count too).
// pg_stat_statements would name the statements, but it must be preloaded at server start,
// which a shared PostgreSQL here is not. Backends report their counts lazily (PostgreSQL 15:
// at the latest ~10 s after they go idle), so each reading first waits that long.
import type { Sql } from "postgres";

export interface Counters {
  hashIndexScans: number;
  transactions: number;
}

const SETTLE_MS = 11_000;

export async function readCounters(sql: Sql): Promise<Counters> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const [scans] = await sql<{ n: string }[]>`
    select coalesce(sum(idx_scan), 0)::text as n from pg_stat_user_indexes where indexrelname = 'key_secrets_hash_unique'`;
  const [xacts] = await sql<{ n: string }[]>`select xact_commit::text as n from pg_stat_database where datname = current_database()`;
  return { hashIndexScans: Number(scans!.n), transactions: Number(xacts!.n) };
}
