// Keyscope's own per-request work, without HTTP: the auth resolver and the finish step (read the
// key, verify it, rate limit, RateLimit-* headers, usage count) timed in a loop, with a key and
// without, side by side. HTTP rounds on a shared 2-core machine swing by ±20%; this part
// doesn't involve the network, the load generator or Apollo, so it shows what the key itself costs.
import { CLI_PRINCIPAL } from "../src/auth/principal.ts";
import { finishRequest, type KeyRequest } from "../src/auth/context.ts";
import { createCore } from "../src/core.ts";
import { openMigratedDatabase } from "../src/db/open-migrated.ts";
import { createLogger } from "../src/logger.ts";
import { median } from "./stats.ts";

export interface AuthPathTimes {
  /** Median nanoseconds per request over the measured batches. */
  noKeyNs: number;
  withKeyNs: number;
}

const BATCH = 20_000;
const WARMUP_BATCHES = 5;
const MEASURED_BATCHES = 15;

export async function measureAuthPath(): Promise<AuthPathTimes> {
  const database = await openMigratedDatabase({ databaseUrl: undefined, dataDir: "memory://" }, "bench");
  // Not serving: no usage timer, so counts stay in memory, as between two flushes.
  const core = await createCore({ database, logger: createLogger("silent"), serving: false });
  try {
    const user = await core.users.createUser(CLI_PRINCIPAL, { email: "bench@example.com", clientTypes: ["mobile"] });
    // A limit the loop never reaches: the limiter still counts every request.
    const rateLimit = { limit: 1_000_000, windowSeconds: 60 };
    const { secret } = await core.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "bench", clientType: "mobile", scopes: [], rateLimit });
    const { authenticate: resolveAuth, usage } = core;

    // The headers autocannon sends, on one keep-alive connection.
    const connection = {};
    const request = (key?: string): KeyRequest => ({
      rawHeaders: ["Host", "127.0.0.1:3000", "Connection", "keep-alive", "content-type", "application/json", ...(key ? ["x-api-key", key] : []), "Content-Length", "26"],
      search: "",
      body: { query: "{ __typename }" },
      clientAddress: "127.0.0.1",
      connection,
    });
    const without = request();
    const withKey = request(secret);
    const headers: string[] = [];

    async function batch(req: KeyRequest): Promise<number> {
      const started = process.hrtime.bigint();
      for (let i = 0; i < BATCH; i++) {
        const auth = await resolveAuth(req);
        headers.length = 0;
        finishRequest(auth, (name, value) => headers.push(name, value), usage);
      }
      return Number(process.hrtime.bigint() - started) / BATCH;
    }

    for (let i = 0; i < WARMUP_BATCHES; i++) await batch(without), await batch(withKey);
    if (headers.length !== 6) throw new Error("the with-key batch did not produce the RateLimit-* headers");
    const noKeyNs: number[] = [];
    const withKeyNs: number[] = [];
    // Alternating batches, order swapped each time, as in the HTTP rounds.
    for (let i = 0; i < MEASURED_BATCHES; i++) {
      if (i % 2) withKeyNs.push(await batch(withKey)), noKeyNs.push(await batch(without));
      else noKeyNs.push(await batch(without)), withKeyNs.push(await batch(withKey));
    }
    return { noKeyNs: median(noKeyNs), withKeyNs: median(withKeyNs) };
  } finally {
    await core.close();
    await database.close();
  }
}
