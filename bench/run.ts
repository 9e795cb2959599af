// npm run bench: Keyscope against the GraphQL stacks a user would pick instead, each with its
// auth and a key, and each again without its auth; all serve the same schema, data and query
// (bench/products.ts). Plus the old `{ __typename }` pair: Keyscope without a key and with one.
// Each server runs in its own child process (bench/servers.ts), autocannon here; rounds are
// interleaved, the order rotated each round. Settings come from BENCH_* variables (`settings`).
//
// `npm run bench` compiles src/ and bench/ first and runs the JS under plain node, as a server
// runs in production: under tsx, its loader hooks add work to every request (Apollo calls
// `require("crypto")` per request), a cost that is nobody's auth.
import { availableParallelism, cpus } from "node:os";
import { measureAuthPath } from "./auth-path.ts";
import { checkFullAnswer, describeDenied, post } from "./check-answers.ts";
import { startChild, stopChildren, type Child } from "./children.ts";
import { measure, type Sample, type Target } from "./measure.ts";
import { PRODUCTS_QUERY } from "./products.ts";
import type { StackKind } from "./servers.ts";
import { positive } from "./settings.ts";
import { median } from "./stats.ts";
import { byCpu, byThroughput, show, verdict, type Ratio } from "./summary.ts";

interface StackSpec {
  id: string;
  name: string;
  kind: StackKind;
  /** The same stack without its auth. */
  bare: { name: string; kind: StackKind };
}

const STACKS: StackSpec[] = [
  { id: "keyscope", name: "keyscope", kind: "keyscope", bare: { name: "apollo on node:http", kind: "bare-apollo" } },
  { id: "shield", name: "apollo + shield", kind: "apollo-shield", bare: { name: "apollo standalone", kind: "apollo-shield" } },
  { id: "yoga", name: "yoga + generic-auth", kind: "yoga-generic-auth", bare: { name: "yoga", kind: "yoga-generic-auth" } },
  { id: "mercurius", name: "mercurius + auth", kind: "mercurius-auth", bare: { name: "mercurius", kind: "mercurius-auth" } },
];

const settings = {
  rounds: positive("BENCH_ROUNDS", 20),
  durationSeconds: positive("BENCH_DURATION_SECONDS", 2),
  warmupSeconds: positive("BENCH_WARMUP_SECONDS", 2),
  connections: positive("BENCH_CONNECTIONS", 10),
  /** Which peers run beside Keyscope (ids above, comma-separated). @default all */
  peers: (process.env.BENCH_PEERS ?? "shield,yoga,mercurius").split(",").map((s) => s.trim()).filter(Boolean),
  /**
   * JSON of extra createKeyscopeServer options for a second Keyscope server, measured as
   * "keyscope (variant)" against "keyscope" (e.g. a later `{"metrics":true}` for /metrics on vs off).
   */
  keyscopeVariant: process.env.BENCH_KEYSCOPE_VARIANT ? (JSON.parse(process.env.BENCH_KEYSCOPE_VARIANT) as Record<string, unknown>) : undefined,
};

const PRODUCTS_BODY = JSON.stringify({ query: PRODUCTS_QUERY });
const TYPENAME_BODY = JSON.stringify({ query: "{ __typename }" });
const TYPENAME_ANSWER = { data: { __typename: "Query" } };
const JSON_HEADERS = { "content-type": "application/json" };
const NO_KEY = "keyscope { __typename }, no key";
const WITH_KEY = "keyscope { __typename }, with key";
const VARIANT = "keyscope (variant)";
/** Keyscope with the opt-in executor (`executor: "graphql-jit"`), beside the default as shipped. */
const JIT = "keyscope, graphql-jit";

interface Plan {
  stacks: StackSpec[];
  /** Measured every round. */
  targets: Target[];
  /** Measured once, after the rounds: each auth stack with the key that fails both guards. */
  denied: { target: Target; answer: string }[];
}

async function main(): Promise<void> {
  const stacks = STACKS.filter((s) => s.id === "keyscope" || settings.peers.includes(s.id));
  printHeader(stacks);
  const plan = await prepare(stacks);
  const { targets } = plan;

  console.log(`\nwarm-up: ${settings.warmupSeconds} s per variant; then ${settings.rounds} rounds, the order rotated by one each round`);
  for (const target of targets) await measure(target, settings.warmupSeconds, settings.connections);

  const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < settings.rounds; round++) {
    // Rotated: over the rounds each variant runs in every position, so that drift within a
    // round (the machine speeding up or slowing down) favours none.
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    const line: string[] = [];
    for (const target of order) {
      const sample = await measure(target, settings.durationSeconds, settings.connections);
      samples.get(target.name)!.push(sample);
    }
    for (const target of targets) {
      const s = samples.get(target.name)!.at(-1)!;
      line.push(`${target.name} ${s.reqPerSec.toFixed(0)}/s ${s.cpuMicrosPerRequest.toFixed(0)}µs`);
    }
    console.log(`round ${round + 1}/${settings.rounds}: ${line.join(" | ")}`);
  }

  const deniedSamples = new Map<string, Sample>();
  for (const { target } of plan.denied) deniedSamples.set(target.name, await measure(target, settings.durationSeconds, settings.connections));

  printSummary(plan, samples, deniedSamples);
  await printAuthPath(samples);
}

/** Starts every server, asks each variant once by hand, and turns the answers into targets. */
async function prepare(stacks: StackSpec[]): Promise<Plan> {
  const started = await Promise.all(
    stacks.map(async (spec) => {
      const [auth, bare] = await Promise.all([startChild(spec.kind, { auth: true }), startChild(spec.bare.kind, { auth: false })]);
      return { spec, auth, bare };
    }),
  );
  const variant = settings.keyscopeVariant ? await startChild("keyscope", { auth: true, keyscope: settings.keyscopeVariant }) : undefined;
  const jit = await startChild("keyscope", { auth: true, keyscope: { executor: "graphql-jit" } });

  const targets: Target[] = [];
  const denied: Plan["denied"] = [];
  for (const { spec, auth, bare } of started) {
    const keys = requireKeys(spec.name, auth);
    // The bare stack gets the same request, key header included, and ignores it.
    const headers = { ...JSON_HEADERS, "x-api-key": keys.good };
    targets.push(await checkedTarget(spec.name, auth, headers, PRODUCTS_BODY));
    targets.push(await checkedTarget(spec.bare.name, bare, headers, PRODUCTS_BODY));
    const deniedTarget = { name: `${spec.name}, denied key`, url: auth.ready.url, headers: { ...JSON_HEADERS, "x-api-key": keys.denied }, body: PRODUCTS_BODY, server: auth.process };
    const answer = await post(deniedTarget.url, deniedTarget.headers, deniedTarget.body);
    denied.push({ target: { ...deniedTarget, expectBody: answer.text, expectStatus: answer.status }, answer: describeDenied(deniedTarget.name, answer) });
  }
  const keyscope = started.find((s) => s.spec.id === "keyscope")!.auth;
  const goodKey = requireKeys("keyscope", keyscope).good;
  targets.push(await checkedTarget(NO_KEY, keyscope, JSON_HEADERS, TYPENAME_BODY, TYPENAME_ANSWER));
  targets.push(await checkedTarget(WITH_KEY, keyscope, { ...JSON_HEADERS, "x-api-key": goodKey }, TYPENAME_BODY, TYPENAME_ANSWER));
  if (variant) targets.push(await checkedTarget(VARIANT, variant, { ...JSON_HEADERS, "x-api-key": requireKeys(VARIANT, variant).good }, PRODUCTS_BODY));
  const jitKeys = requireKeys(JIT, jit);
  targets.push(await checkedTarget(JIT, jit, { ...JSON_HEADERS, "x-api-key": jitKeys.good }, PRODUCTS_BODY));
  const jitDenied = { name: `${JIT}, denied key`, url: jit.ready.url, headers: { ...JSON_HEADERS, "x-api-key": jitKeys.denied }, body: PRODUCTS_BODY, server: jit.process };
  const jitAnswer = await post(jitDenied.url, jitDenied.headers, jitDenied.body);
  denied.push({ target: { ...jitDenied, expectBody: jitAnswer.text, expectStatus: jitAnswer.status }, answer: describeDenied(jitDenied.name, jitAnswer) });
  return { stacks, targets, denied };
}

/** One request by hand must get the full, right answer (it also fills Keyscope's key cache). */
async function checkedTarget(name: string, child: Child, headers: Record<string, string>, body: string, expected?: unknown): Promise<Target> {
  const answer = await post(child.ready.url, headers, body);
  checkFullAnswer(name, answer, expected);
  return { name, url: child.ready.url, headers, body, expectBody: answer.text, expectStatus: answer.status, server: child.process };
}

function requireKeys(name: string, child: Child) {
  if (!child.ready.keys) throw new Error(`${name}: the server reported no keys`);
  return child.ready.keys;
}

function printHeader(stacks: StackSpec[]): void {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(`machine: ${availableParallelism()} CPUs (${cpu}), node ${process.version}, ${process.platform}/${process.arch}, compiled JS`);
  console.log(
    `settings: ${settings.rounds} rounds × ${settings.durationSeconds} s per variant, warm-up ${settings.warmupSeconds} s, ${settings.connections} connections; ` +
      `stacks: ${stacks.map((s) => `${s.name} (bare: ${s.bare.name})`).join(", ")}`,
  );
  console.log(`request: POST /graphql ${PRODUCTS_BODY} (40 guarded fields), and ${TYPENAME_BODY} for the old pair`);
}

function printSummary(plan: Plan, samples: Map<string, Sample[]>, denied: Map<string, Sample>): void {
  const of = (name: string) => samples.get(name)!;
  console.log(`\nmedian of ${settings.rounds} rounds:                      req/s   p99 ms   server CPU µs/req   client CPU µs/req`);
  for (const { name } of plan.targets) {
    const s = of(name);
    const at = (pick: (x: Sample) => number) => median(s.map(pick));
    console.log(
      `  ${name.padEnd(36)} ${at((x) => x.reqPerSec).toFixed(0).padStart(7)} ${at((x) => x.p99Ms).toFixed(1).padStart(8)} ` +
        `${at((x) => x.cpuMicrosPerRequest).toFixed(1).padStart(19)} ${at((x) => x.clientCpuMicrosPerRequest).toFixed(1).padStart(19)}`,
    );
  }

  console.log("\nratios of the rounds' own ratios: median [95% interval]; higher is better for the first named");
  console.log("                                              by req/s               by server CPU per request");
  const row = (label: string, a: string, b: string) => {
    const [t, c] = [byThroughput(of(a), of(b)), byCpu(of(a), of(b))];
    console.log(`  ${label.padEnd(42)} ${show(t).padEnd(22)} ${show(c)}`);
    return { throughput: t, cpu: c };
  };
  console.log("auth tax (with auth and a key ÷ the same stack bare):");
  const tax = new Map<string, { throughput: Ratio; cpu: Ratio }>();
  for (const spec of plan.stacks) tax.set(spec.id, row(`${spec.name} ÷ ${spec.bare.name}`, spec.name, spec.bare.name));
  console.log("keyscope ÷ each peer (both with auth and a key):");
  const versus = new Map<string, { throughput: Ratio; cpu: Ratio }>();
  for (const spec of plan.stacks.filter((s) => s.id !== "keyscope")) versus.set(spec.id, row(`keyscope ÷ ${spec.name}`, "keyscope", spec.name));
  console.log("bare stacks (no auth), for reference:");
  for (const spec of plan.stacks.filter((s) => s.id !== "keyscope")) row(`apollo on node:http ÷ ${spec.bare.name}`, "apollo on node:http", spec.bare.name);
  if (settings.keyscopeVariant) row(`${VARIANT} ÷ keyscope`, VARIANT, "keyscope");
  console.log(`the opt-in executor (executor: "graphql-jit"):`);
  row(`${JIT} ÷ keyscope`, JIT, "keyscope");
  const jitVersus = new Map<string, { throughput: Ratio; cpu: Ratio }>();
  for (const spec of plan.stacks.filter((s) => s.id !== "keyscope")) jitVersus.set(spec.id, row(`${JIT} ÷ ${spec.name}`, JIT, spec.name));

  console.log("\nthe key that fails both guards (client type mobile, no stock:read), one round:");
  for (const { target, answer } of plan.denied) {
    const s = denied.get(target.name)!;
    console.log(`  ${target.name.padEnd(32)} ${s.reqPerSec.toFixed(0).padStart(6)} req/s ${s.cpuMicrosPerRequest.toFixed(0).padStart(5)} µs/req  ${answer}`);
  }

  console.log("\ntargets (issue 12), judged on the median; the interval says how sure:");
  const line = (label: string, r: Ratio | undefined, target: number) => {
    if (r) console.log(`  ${label.padEnd(52)} ${show(r).padEnd(22)} ${verdict(r, target)}`);
  };
  line("keyscope's auth tax by CPU ≥ 0.95", tax.get("keyscope")?.cpu, 0.95);
  line("keyscope ÷ yoga + generic-auth by req/s ≥ 2", versus.get("yoga")?.throughput, 2);
  line("keyscope ÷ apollo + shield by req/s ≥ 2", versus.get("shield")?.throughput, 2);
  line("keyscope ÷ mercurius + auth by req/s ≥ 1", versus.get("mercurius")?.throughput, 1);
  line(`${JIT} ÷ yoga + generic-auth by req/s ≥ 2`, jitVersus.get("yoga")?.throughput, 2);
  line(`${JIT} ÷ apollo + shield by req/s ≥ 2`, jitVersus.get("shield")?.throughput, 2);
  line(`${JIT} ÷ mercurius + auth by req/s ≥ 1`, jitVersus.get("mercurius")?.throughput, 1);
  const keyByCpu = byCpu(of(WITH_KEY), of(NO_KEY));
  line("{ __typename } with key ÷ without, by CPU ≥ 0.95", keyByCpu, 0.95);
  console.log(`  ${"  the same by req/s (beside it, not judged)".padEnd(52)} ${show(byThroughput(of(WITH_KEY), of(NO_KEY)))}`);
}

/** Keyscope's own with-key work timed alone (no HTTP), as a share of a request's server CPU. */
async function printAuthPath(samples: Map<string, Sample[]>): Promise<void> {
  const { noKeyNs, withKeyNs } = await measureAuthPath();
  const extraMicros = (withKeyNs - noKeyNs) / 1000;
  const serverMicros = median(samples.get(NO_KEY)!.map((s) => s.cpuMicrosPerRequest));
  console.log(`\nauth path alone (no HTTP; read, verify, limit, headers, count; in a loop in this process):`);
  console.log(`  no key ${noKeyNs.toFixed(0)} ns, with key ${withKeyNs.toFixed(0)} ns per request`);
  console.log(
    `  the key adds ${extraMicros.toFixed(2)} µs, ${((100 * extraMicros) / serverMicros).toFixed(1)}% of the ${serverMicros.toFixed(0)} µs ` +
      `of server CPU a { __typename } request without a key took above (warm caches here, so a lower bound)`,
  );
}

main()
  .catch((error: unknown) => {
    console.error(`bench failed: ${(error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(stopChildren);
