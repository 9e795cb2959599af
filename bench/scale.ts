// npm run bench:scale: Keyscope on PostgreSQL with a million keys, over real HTTP.
// - cold verification (each key's first request: cache miss → PostgreSQL) against a cache hit,
//   at 1,000 keys and again at 1,000,000;
// - the key cache's memory per 10,000 entries;
// - a flood of forged well-formed keys from other loopback addresses while a valid key keeps
//   working: its throughput during the flood ÷ without, and database look-ups per forged key.
// It creates its own database (BENCH_DATABASE_URL, else TEST_DATABASE_URL, names the server)
// and drops it at the end. Settings come from BENCH_SCALE_* variables (see `settings`).
import autocannon from "autocannon";
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import postgres, { type Sql } from "postgres";
import { askStack, serverCpuMicros, startChild, stopChildren, type Child } from "./children.ts";
import { measureColdVerification, presentAll, TYPENAME_ANSWER, TYPENAME_BODY, type ColdResult } from "./scale/cold-verification.ts";
import { readCounters, type Counters } from "./scale/database-counters.ts";
import type { FloodOrder, FloodReport } from "./scale/flood.ts";
import { seedKeys } from "./scale/seed-keys.ts";
import { positive } from "./settings.ts";
import { median } from "./stats.ts";
import { ratio, show, verdict } from "./summary.ts";

const settings = {
  keys: positive("BENCH_SCALE_KEYS", 1_000_000),
  smallKeys: positive("BENCH_SCALE_SMALL_KEYS", 1_000),
  /** Cold/hit/hit triples measured at each size (at most the small size's key count there). */
  cold: positive("BENCH_SCALE_COLD", 1_000),
  cacheEntries: 10_000,
  rounds: positive("BENCH_SCALE_ROUNDS", 3),
  seconds: positive("BENCH_SCALE_SECONDS", 5),
  floodRate: positive("BENCH_SCALE_FLOOD_RATE", 1_000),
  /** Source addresses per flood round; each round uses new ones (127.0.0.2 up). */
  floodAddresses: positive("BENCH_SCALE_FLOOD_ADDRESSES", 50),
  connections: positive("BENCH_CONNECTIONS", 10),
};

const KEY_PREFIX = "ks";
const FAILED_AUTH_LIMIT = 20; // Keyscope's default: failed checks per address per 60 s before 429

async function main(): Promise<void> {
  // One set of addresses per round, and one more for the flood alone.
  if (settings.floodAddresses * (settings.rounds + 1) > 253) {
    throw new Error("BENCH_SCALE_FLOOD_ADDRESSES × (BENCH_SCALE_ROUNDS + 1) must be at most 253 (127.0.0.2–254)");
  }
  if (settings.smallKeys >= settings.keys) throw new Error("BENCH_SCALE_SMALL_KEYS must be below BENCH_SCALE_KEYS");
  const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error("set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres");
  printHeader();
  const name = `keyscope_scale_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const sql = postgres(url.href, { max: 2, onnotice: () => {} });
  try {
    await run(url.href, sql);
  } finally {
    stopChildren();
    await sql.end();
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the server's pool close first
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

async function run(databaseUrl: string, sql: Sql): Promise<void> {
  const server = await startChild("keyscope-postgres", { auth: true }, { execArgv: ["--expose-gc"], env: { BENCH_SCALE_DATABASE_URL: databaseUrl } });
  const validKey = server.ready.keys!.good;
  const [user] = await sql<{ id: string }[]>`select id from users where email = 'bench@example.com'`;
  const userId = user!.id;

  const small = await timed(() => seedKeys(sql, { userId, count: settings.smallKeys, keep: settings.smallKeys, keyPrefix: KEY_PREFIX }));
  await sql`vacuum analyze api_keys, key_secrets`;
  console.log(`seeded ${settings.smallKeys} keys in ${small.seconds.toFixed(1)} s`);
  const coldSmall = await measureColdVerification(server.ready.url, small.value.slice(0, settings.cold), validKey);

  const rest = settings.keys - settings.smallKeys;
  const big = await timed(() => seedKeys(sql, { userId, count: rest, keep: settings.cold + settings.cacheEntries, keyPrefix: KEY_PREFIX }));
  const vacuum = await timed(async () => {
    await sql`vacuum analyze api_keys, key_secrets`;
    // The load's dirty pages written now, not by a checkpoint in the middle of the timed requests.
    await sql`checkpoint`;
  });
  console.log(
    `seeded ${rest} more keys (${settings.keys} in all) in ${big.seconds.toFixed(1)} s ` +
      `(${(rest / big.seconds).toFixed(0)} keys/s, COPY), vacuum analyze and checkpoint ${vacuum.seconds.toFixed(1)} s`,
  );
  const sample = big.value;
  const beforeCold = await readCounters(sql);
  const coldBig = await measureColdVerification(server.ready.url, sample.slice(0, settings.cold), validKey);
  const memory = await measureCacheMemory(server, sample.slice(settings.cold, settings.cold + settings.cacheEntries));
  const afterCold = await readCounters(sql);

  const flood = await measureFlood(server, validKey);
  const afterFlood = await readCounters(sql);

  printCold(coldSmall, coldBig);
  const expectedScans = settings.cold + settings.cacheEntries;
  console.log(
    `  hash-index look-ups during the cold requests and the cache fill: ${afterCold.hashIndexScans - beforeCold.hashIndexScans} ` +
      `(${expectedScans} keys presented for the first time: one look-up each is a miss that reached PostgreSQL)`,
  );
  printMemory(memory);
  printFlood(flood, afterCold, afterFlood);
}

interface Memory {
  /** Heap growth after presenting 10,000 new keys (cache, rate limiter, usage counts). */
  perKeyState: number;
  /** What clearing the cache then frees. */
  cache: number;
}

async function measureCacheMemory(server: Child, keys: string[]): Promise<Memory> {
  await askStack(server.process, "clear-cache");
  const empty = (await askStack(server.process, "heap")) as number;
  await presentAll(server.ready.url, keys, 8);
  const full = (await askStack(server.process, "heap")) as number;
  await askStack(server.process, "clear-cache");
  const cleared = (await askStack(server.process, "heap")) as number;
  return { perKeyState: full - empty, cache: full - cleared };
}

interface FloodRound {
  without: number;
  during: number;
  report: FloodReport;
}

interface Flood {
  rounds: FloodRound[];
  /** The flood with no valid load: the server's CPU time per forged request answered. */
  alone: { report: FloodReport; serverMicrosPerRequest: number };
  /** The server's CPU time per valid request, without the flood (median of the rounds). */
  validMicrosPerRequest: number;
}

async function measureFlood(server: Child, validKey: string): Promise<Flood> {
  const target = { url: server.ready.url, headers: { "content-type": "application/json", "x-api-key": validKey } };
  // The exact body every answer must match (Apollo ends it with a newline).
  const check = await fetch(target.url, { method: "POST", headers: target.headers, body: TYPENAME_BODY });
  const expectBody = await check.text();
  if (check.status !== 200 || expectBody.trim() !== TYPENAME_ANSWER) throw new Error(`the valid key got ${check.status} ${expectBody}`);
  const validLoad = async () => {
    const result = await autocannon({ ...target, method: "POST", body: TYPENAME_BODY, connections: settings.connections, duration: settings.seconds, expectBody });
    if (result.errors > 0 || result.mismatches > 0 || result.non2xx > 0) {
      throw new Error(`the valid key: ${result.errors} errors, ${result.mismatches} wrong bodies, ${result.non2xx} non-2xx answers`);
    }
    return result.requests.mean;
  };
  const addressesOf = (set: number) => Array.from({ length: settings.floodAddresses }, (_, i) => `127.0.0.${2 + set * settings.floodAddresses + i}`);
  const floodOrder = (set: number): FloodOrder => ({
    url: server.ready.url, addresses: addressesOf(set), requestsPerSecond: settings.floodRate, seconds: settings.seconds, keyPrefix: KEY_PREFIX,
  });
  await validLoad(); // warm-up
  const validCpu: number[] = [];
  const rounds: FloodRound[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    const flooded = async () => {
      const flood = startFlood(floodOrder(round));
      await flood.started;
      const during = await validLoad();
      return { during, report: await flood.report };
    };
    // Alternate which runs first, so that drift between the two favours neither.
    let without: number;
    let withFlood: { during: number; report: FloodReport };
    const alone = async () => {
      const cpuBefore = await serverCpuMicros(server.process);
      const rate = await validLoad();
      validCpu.push(((await serverCpuMicros(server.process)) - cpuBefore) / (rate * settings.seconds));
      return rate;
    };
    if (round % 2 === 0) {
      without = await alone();
      withFlood = await flooded();
    } else {
      withFlood = await flooded();
      without = await alone();
    }
    rounds.push({ without, ...withFlood });
    console.log(`flood round ${round + 1}/${settings.rounds}: valid key ${without.toFixed(0)} req/s alone, ${withFlood.during.toFixed(0)} during the flood; forged answers ${JSON.stringify(withFlood.report.statuses)}`);
  }
  const cpuBefore = await serverCpuMicros(server.process);
  const flood = startFlood(floodOrder(settings.rounds));
  const report = await flood.report;
  const answered = Object.entries(report.statuses).reduce((sum, [status, n]) => sum + (status === "error" ? 0 : n), 0);
  const serverMicrosPerRequest = ((await serverCpuMicros(server.process)) - cpuBefore) / answered;
  return { rounds, alone: { report, serverMicrosPerRequest }, validMicrosPerRequest: median(validCpu) };
}

function startFlood(order: FloodOrder): { started: Promise<void>; report: Promise<FloodReport> } {
  const child = fork(fileURLToPath(new URL("./scale/flood.js", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let markStarted: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const report = new Promise<FloodReport>((resolve, reject) => {
    child.on("message", (message) => (message === "started" ? markStarted() : resolve(message as FloodReport)));
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`the flood exited with code ${code}`))));
  });
  child.send(order);
  return { started, report };
}

function printHeader(): void {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(`machine: ${availableParallelism()} CPUs (${cpu}), node ${process.version}, compiled JS; Keyscope on PostgreSQL, cache ${settings.cacheEntries} entries (default)`);
  console.log(
    `settings: ${settings.keys} keys (first ${settings.smallKeys}), ${settings.cold} cold/hit/hit triples per size (the first 50 a warm-up), ` +
      `flood ${settings.floodRate} forged keys/s from ${settings.floodAddresses} addresses per round, ${settings.rounds} rounds × ${settings.seconds} s, ` +
      `valid key on ${settings.connections} connections\n`,
  );
}

function printCold(small: ColdResult, big: ColdResult): void {
  console.log("\ncold verification, POST { __typename } with a key, one keep-alive connection, ms:");
  console.log("  each new key (cold: cache miss → PostgreSQL) followed by two keys the cache holds (hit, hit again)");
  console.log("                        cold p50  cold p99   hit p50   hit p99   added p50  added p99   control p50 control p99");
  const row = (label: string, r: ColdResult) =>
    console.log(
      `  ${label.padEnd(20)} ${[r.cold.p50, r.cold.p99, r.hit.p50, r.hit.p99, r.added.p50, r.added.p99, r.control.p50, r.control.p99].map((v) => v.toFixed(3).padStart(9)).join(" ")}`,
    );
  row(`${small.count} of ${settings.smallKeys} keys`, small);
  row(`${big.count} of ${settings.keys} keys`, big);
  console.log("  added: cold's percentile − hit's; control: hit again's − hit's (no look-up in either: what the method reads as zero)");
  const pairwise = (label: string, r: ColdResult) =>
    console.log(
      `  ${label.padEnd(20)} each pair's own difference: cold − hit p50 ${r.pairwise.added.p50.toFixed(3)} p99 ${r.pairwise.added.p99.toFixed(3)}; ` +
        `hit again − hit p50 ${r.pairwise.control.p50.toFixed(3)} p99 ${r.pairwise.control.p99.toFixed(3)} (the machine's jitter, no look-up)`,
    );
  pairwise(`${small.count} of ${settings.smallKeys} keys`, small);
  pairwise(`${big.count} of ${settings.keys} keys`, big);
  console.log(`  target: added p99 ≤ 2 ms at ${settings.keys} keys: ${big.added.p99.toFixed(3)} ms, ${big.added.p99 <= 2 ? "met" : "NOT met"}`);
  console.log(`  ${settings.keys} ÷ ${settings.smallKeys} keys, added p50 ${(big.added.p50 / small.added.p50).toFixed(2)}×, p99 ${(big.added.p99 / small.added.p99).toFixed(2)}×`);
}

function printMemory(memory: Memory): void {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  console.log(`\nmemory per ${settings.cacheEntries} keys (heap after a full GC, in the server):`);
  console.log(`  the key cache's entries (freed by clearing it): ${kib(memory.cache)}, ${(memory.cache / settings.cacheEntries).toFixed(0)} bytes per entry`);
  console.log(`  all per-key state they added (cache, rate-limit counters, usage counts): ${kib(memory.perKeyState)}`);
}

function printFlood({ rounds, alone, validMicrosPerRequest }: Flood, before: Counters, after: Counters): void {
  const r = ratio(rounds.map((x) => x.during / x.without));
  const reports = [...rounds.map((x) => x.report), alone.report];
  const forged = reports.reduce((sum, x) => sum + x.sent, 0);
  const skipped = reports.reduce((sum, x) => sum + x.skipped, 0);
  const statuses: Record<string, number> = {};
  for (const report of reports) for (const [status, n] of Object.entries(report.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  const scans = after.hashIndexScans - before.hashIndexScans;
  const transactions = after.transactions - before.transactions;
  const addresses = settings.floodAddresses * (settings.rounds + 1);
  const floodCpu = median(rounds.map((x) => x.report.cpuMicros / (settings.seconds * 1e6)));
  console.log(`\nflood of forged well-formed keys (valid checksum, never issued), ${settings.rounds} rounds:`);
  console.log(`  valid key alone ${median(rounds.map((x) => x.without)).toFixed(0)} req/s, during the flood ${median(rounds.map((x) => x.during)).toFixed(0)} req/s`);
  console.log(`  target: during ÷ alone ≥ 0.9 (median of the rounds' own ratios [interval]): ${show(r)} ${verdict(r, 0.9)}`);
  console.log(`  the flood's own load generator used ${(100 * floodCpu).toFixed(0)}% of a core (same two cores)`);
  console.log(
    `  server CPU: ${validMicrosPerRequest.toFixed(0)} µs per valid request (no flood); ${alone.serverMicrosPerRequest.toFixed(0)} µs per forged one, ` +
      `${(alone.serverMicrosPerRequest / validMicrosPerRequest).toFixed(1)}× ` +
      `(the flood alone, ${(alone.report.sent / settings.seconds).toFixed(0)} req/s sent: ${JSON.stringify(alone.report.statuses)})`,
  );
  console.log(`  forged requests in all ${forged} (${skipped} more not sent: ${alone.report.maxInFlight} in flight already), answers ${JSON.stringify(statuses)}`);
  console.log(
    `  database, during the ${settings.rounds} rounds and the flood alone: ${scans} hash-index look-ups, ${(scans / forged).toFixed(3)} per forged key; ${transactions} transactions in all ` +
      `(${(transactions / forged).toFixed(3)} per forged key, usage flushes and this reader included)`,
  );
  console.log(
    `  per source address: ${(scans / addresses).toFixed(1)} look-ups (the failed-check throttle answers 429 without one after ${FAILED_AUTH_LIMIT} failures per 60 s)`,
  );
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

main().catch((error: unknown) => {
  console.error(`bench:scale failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
