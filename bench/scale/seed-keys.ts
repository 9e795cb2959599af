// Seeds keys straight into PostgreSQL with COPY: real generated keys (prefix, 32 random base62
// characters, checksum) and the same SHA-256 hex Keyscope stores in key_secrets.hash, all owned
// by one user. Only a sample of the plaintexts is kept, to be presented later.
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReservedSql, Sql } from "postgres";
import { generateKey, hashKey, keyStart } from "../../src/keys/key-format.ts";

const BATCH = 50_000;

export interface SeedOptions {
  userId: string;
  count: number;
  /** How many plaintexts to keep, spread evenly over the seeded keys. */
  keep: number;
  keyPrefix: string;
}

/** Inserts `count` keys; returns the kept plaintexts. */
export async function seedKeys(sql: Sql, options: SeedOptions): Promise<string[]> {
  const { userId, count, keep, keyPrefix } = options;
  const stride = Math.max(1, Math.floor(count / Math.max(1, keep)));
  const kept: string[] = [];
  // One connection: the setting below is the session's. The rows are consistent by construction
  // (each secret's key is in the same batch, the user exists): foreign-key triggers would only
  // slow the load.
  const connection = await sql.reserve();
  await connection`set session_replication_role = replica`;
  try {
    for (let done = 0; done < count; done += BATCH) {
      const size = Math.min(BATCH, count - done);
      const keys: string[] = [];
      const secrets: string[] = [];
      for (let i = 0; i < size; i++) {
        const key = generateKey(keyPrefix);
        const keyId = randomUUID();
        if ((done + i) % stride === 0 && kept.length < keep) kept.push(key);
        keys.push(`${keyId}\t${userId}\tscale ${done + i}\tpartner\t{stock:read}\t${keyStart(key, keyPrefix)}\n`);
        secrets.push(`${randomUUID()}\t${keyId}\t${hashKey(key, undefined)}\n`);
      }
      await copy(connection, "api_keys (id, user_id, name, client_type, scopes, start)", keys);
      await copy(connection, "key_secrets (id, key_id, hash)", secrets);
    }
  } finally {
    await connection`set session_replication_role = default`;
    connection.release();
  }
  return kept;
}

async function copy(sql: ReservedSql, target: string, lines: string[]): Promise<void> {
  const writable = await sql.unsafe(`copy ${target} from stdin`).writable();
  await pipeline(Readable.from(chunks(lines)), writable);
}

function* chunks(lines: string[]): Generator<string> {
  for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000).join("");
}
