// npm run bench: Keyscope without a key, Keyscope with a (cached) key, and a bare Apollo Server
// on the same schema, measured round-robin in one run; each server in its own child process,
// autocannon here. Settings come from BENCH_* variables (see `settings`).
//
// `npm run bench` compiles src/ and bench/ first and runs the JS under plain node, as a server
// runs in production: under tsx, its loader hooks add work to every request (Apollo calls
// `require("crypto")` per request), a cost that is Keyscope's in neither case.
import autocannon from "autocannon";
import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { measureAuthPath } from "./auth-path.ts";
import { median, medianInterval, spread } from "./stats.ts";
import type { ServerReady } from "./servers.ts";

const settings = {
  rounds: positive("BENCH_ROUNDS", 20),
  durationSeconds: positive("BENCH_DURATION_SECONDS", 2),
  warmupSeconds: positive("BENCH_WARMUP_SECONDS", 2),
  connections: positive("BENCH_CONNECTIONS", 10),
  /** Adds a second "no key" variant: how far two identical variants differ is the noise floor. */
  sameTwice: process.env.BENCH_AA === "1",
  bare: process.env.BENCH_BARE === "standalone" ? "startStandaloneServer" : "node:http + executeHTTPGraphQLRequest",
};

const BODY = JSON.stringify({ query: "{ __typename }" });
const EXPECTED = JSON.stringify({ data: { __typename: "Query" } });

interface Variant {
  name: string;
  url: string;
  headers: Record<string, string>;
  server: ChildProcess;
}

interface Sample {
  reqPerSec: number;
  p99Ms: number;
  /** The server process's CPU time (user + system) per request: less swayed by other load than req/s. */
  cpuMicrosPerRequest: number;
  /** The load generator's (this process's) CPU time per request: it shares the machine's cores. */
  clientCpuMicrosPerRequest: number;
}

interface Child {
  process: ChildProcess;
  ready: ServerReady;
}

const children: ChildProcess[] = [];

async function main(): Promise<void> {
  printHeader();
  const [keyscope, apollo] = await Promise.all([startChild("keyscope"), startChild("apollo")]);
  const json = { "content-type": "application/json" };
  const variants: Variant[] = [
    { name: "keyscope, no key", url: keyscope.ready.url, headers: json, server: keyscope.process },
    { name: "keyscope, with key", url: keyscope.ready.url, headers: { ...json, "x-api-key": keyscope.ready.secret ?? "" }, server: keyscope.process },
    { name: "bare apollo", url: apollo.ready.url, headers: json, server: apollo.process },
  ];
  if (settings.sameTwice) variants.push({ name: "keyscope, no key (2)", url: keyscope.ready.url, headers: json, server: keyscope.process });
  // Also fills the key cache: the measured requests with a key are cache hits.
  for (const variant of variants) await checkAnswer(variant);

  console.log(`warm-up: ${settings.warmupSeconds} s per variant; odd rounds in this order, even rounds reversed`);
  for (const variant of variants) await measure(variant, settings.warmupSeconds);

  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    const line: string[] = [];
    // Every other round runs the variants in reverse order, so that drift within a round (the
    // machine speeding up or slowing down) does not always favour the same variant.
    const order = round % 2 === 1 ? variants : [...variants].reverse();
    for (const variant of order) {
      const sample = await measure(variant, settings.durationSeconds);
      samples.get(variant.name)!.push(sample);
      line.push(`${variant.name} ${sample.reqPerSec.toFixed(0)} req/s ${sample.cpuMicrosPerRequest.toFixed(0)} µs (client ${sample.clientCpuMicrosPerRequest.toFixed(0)})`);
    }
    const ratio = samples.get("keyscope, with key")!.at(-1)!.reqPerSec / samples.get("keyscope, no key")!.at(-1)!.reqPerSec;
    console.log(`round ${round}/${settings.rounds}: ${line.join(" | ")} | with key ÷ without ${ratio.toFixed(3)}`);
  }
  printSummary(variants, samples);

  const { noKeyNs, withKeyNs } = await measureAuthPath();
  const extraMicros = (withKeyNs - noKeyNs) / 1000;
  const serverMicros = median(samples.get("keyscope, no key")!.map((s) => s.cpuMicrosPerRequest));
  console.log(`\nauth path alone (no HTTP; read, verify, limit, headers, count; in a loop in this process):`);
  console.log(`  no key ${noKeyNs.toFixed(0)} ns, with key ${withKeyNs.toFixed(0)} ns per request`);
  console.log(
    `  the key adds ${extraMicros.toFixed(2)} µs, ${((100 * extraMicros) / serverMicros).toFixed(1)}% of the ${serverMicros.toFixed(0)} µs ` +
      `of server CPU a request without a key took above (warm caches here, so a lower bound)`,
  );
}

/** Forks the compiled servers.js beside this file and waits for its `{ url, secret? }`. */
function startChild(kind: "keyscope" | "apollo"): Promise<Child> {
  const profileDir = process.env.BENCH_CPU_PROF;
  const child = fork(fileURLToPath(new URL("./servers.js", import.meta.url)), [kind], {
    execArgv: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 60 s`)), 60_000);
    child.once("message", (message) => {
      clearTimeout(timer);
      resolve({ process: child, ready: message as ServerReady });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited with code ${code} before it was ready`));
    });
  });
}

/** One request by hand: the variant must answer 200 with the expected body, or the run is void. */
async function checkAnswer(variant: Variant): Promise<void> {
  const response = await fetch(variant.url, { method: "POST", headers: variant.headers, body: BODY });
  const text = await response.text();
  if (response.status !== 200 || text.trim() !== EXPECTED) {
    throw new Error(`${variant.name}: expected 200 ${EXPECTED}, got ${response.status} ${text}`);
  }
}

async function measure(variant: Variant, seconds: number): Promise<Sample> {
  const cpuBefore = await serverCpuMicros(variant.server);
  const clientBefore = process.cpuUsage();
  const result = await autocannon({
    url: variant.url,
    method: "POST",
    headers: variant.headers,
    body: BODY,
    connections: settings.connections,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${variant.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  const client = process.cpuUsage(clientBefore);
  const cpu = (await serverCpuMicros(variant.server)) - cpuBefore;
  return {
    reqPerSec: result.requests.mean,
    p99Ms: result.latency.p99,
    cpuMicrosPerRequest: cpu / result.requests.total,
    clientCpuMicrosPerRequest: (client.user + client.system) / result.requests.total,
  };
}

function serverCpuMicros(server: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("a server stopped answering")), 5_000);
    server.once("message", (usage) => {
      clearTimeout(timer);
      const { user, system } = usage as NodeJS.CpuUsage;
      resolve(user + system);
    });
    server.send("cpu");
  });
}

function printHeader(): void {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(`machine: ${availableParallelism()} CPUs (${cpu}), node ${process.version}, ${process.platform}/${process.arch}, compiled JS`);
  console.log(
    `settings: ${settings.rounds} rounds × ${settings.durationSeconds} s per variant, warm-up ${settings.warmupSeconds} s, ` +
      `${settings.connections} connections, bare apollo = ${settings.bare}`,
  );
  console.log(`request: POST /graphql ${BODY}\n`);
}

function printSummary(variants: Variant[], samples: Map<string, Sample[]>): void {
  const rates = (name: string) => samples.get(name)!.map((s) => s.reqPerSec);
  // CPU per request, inverted so that it reads like a throughput ratio (higher is better).
  const cpuRates = (name: string) => samples.get(name)!.map((s) => 1 / s.cpuMicrosPerRequest);
  console.log(`\nmedian of ${settings.rounds} rounds:`);
  for (const { name } of variants) {
    const p99 = median(samples.get(name)!.map((s) => s.p99Ms));
    const cpu = median(samples.get(name)!.map((s) => s.cpuMicrosPerRequest));
    console.log(
      `  ${name.padEnd(20)} ${median(rates(name)).toFixed(0).padStart(7)} req/s   p99 ${p99.toFixed(1)} ms   server CPU ${cpu.toFixed(1)} µs/req`,
    );
  }
  // req/s as asked; "per round" is the median of each round's own ratio (variants measured back
  // to back share the machine's state, so it resists drift); "by CPU" compares the server's CPU
  // time per request (inverted), which other load on the machine sways less than req/s.
  console.log("ratios:                         req/s   per round     by CPU");
  const rows: [string, string, string][] = [
    ["with key ÷ without key", "keyscope, with key", "keyscope, no key"],
    ["without key ÷ bare apollo", "keyscope, no key", "bare apollo"],
    ["with key ÷ bare apollo", "keyscope, with key", "bare apollo"],
  ];
  if (settings.sameTwice) rows.push(["no key (2) ÷ no key (noise)", "keyscope, no key (2)", "keyscope, no key"]);
  const cell = (value: number) => value.toFixed(3).padStart(10);
  for (const [label, a, b] of rows) {
    const [x, y] = [rates(a), rates(b)];
    const perRound = median(x.map((v, i) => v / y[i]!));
    const byCpu = median(cpuRates(a)) / median(cpuRates(b));
    console.log(`  ${label.padEnd(27)} ${cell(median(x) / median(y))}  ${cell(perRound)} ${cell(byCpu)}`);
  }
  // Judged per round: the two variants run back to back on one server, so the machine's drift
  // between rounds (seen as ±10% here) cancels out; the ratio of medians keeps it.
  const withKey = rates("keyscope, with key");
  const perRound = rates("keyscope, no key").map((v, i) => withKey[i]! / v);
  const keyRatio = median(perRound);
  const [low, high] = medianInterval(perRound);
  console.log(`target with key ÷ without key ≥ 0.95 (req/s, per round): ${keyRatio.toFixed(3)}, ${keyRatio >= 0.95 ? "met" : "NOT met"}`);
  console.log(`  95% interval of that median: ${low.toFixed(3)}–${high.toFixed(3)} (rounds disagree by ${spread(perRound)}; more rounds narrow it)`);
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** Disconnecting makes each child close its server and exit (see servers.ts). */
function stopChildren(): void {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const force = setTimeout(() => child.kill("SIGKILL"), 3_000);
    child.once("exit", () => clearTimeout(force));
    if (child.connected) child.disconnect();
  }
}

main()
  .catch((error: unknown) => {
    console.error(`bench failed: ${(error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(stopChildren);
