// Cold verification over real HTTP: each key presented for the first time (cache miss →
// PostgreSQL), each followed on the same keep-alive connection by two keys the cache holds (cache
// hits; neither is the connection's last key, so the LRU is really asked).
//
// One request's latency on two shared cores jitters by milliseconds whatever it does (the
// scheduler, GC of either process), so the p99 of each pair's own difference measures that jitter
// as much as the look-up. The two hits give the control: hit − hit has no look-up in it, and its
// spread is the jitter alone. The added latency is judged on the distributions, cold's percentile
// minus the hits' (the control's is close to 0), with the pairwise figures printed beside it.
import { Agent } from "node:http";
import { percentile } from "../stats.ts";
import { timedPost } from "./timed-request.ts";

export const TYPENAME_BODY = JSON.stringify({ query: "{ __typename }" });
export const TYPENAME_ANSWER = JSON.stringify({ data: { __typename: "Query" } });

/** Triples first run and not counted: the miss path compiled by V8 before it is timed. */
const WARM_UP = 50;

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface ColdResult {
  count: number;
  cold: Percentiles;
  hit: Percentiles;
  /** Cold's percentiles minus the first hits' (the judged figure). */
  added: Percentiles;
  /** The same for the second hits against the first: no look-up in either, so jitter alone. */
  control: Percentiles;
  /** Of each triple's own difference: cold − its first hit, and second hit − first hit. */
  pairwise: { added: Percentiles; control: Percentiles };
}

export async function measureColdVerification(url: string, keys: string[], warmKey: string): Promise<ColdResult> {
  if (keys.length <= WARM_UP) throw new Error(`cold verification needs more than ${WARM_UP} keys`);
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const cold: number[] = [];
  const hit: number[] = [];
  const hitAgain: number[] = [];
  try {
    const ask = async (key: string) => {
      const answer = await timedPost(target, agent, { "content-type": "application/json", "x-api-key": key }, TYPENAME_BODY);
      if (answer.status !== 200 || answer.text.trim() !== TYPENAME_ANSWER) throw new Error(`a seeded key got ${answer.status} ${answer.text.slice(0, 300)}`);
      return answer.ms;
    };
    await ask(warmKey);
    let [previous, beforeThat] = [warmKey, warmKey];
    for (const [i, key] of keys.entries()) {
      const triple = [await ask(key), await ask(previous), await ask(beforeThat)] as const;
      [beforeThat, previous] = [previous, key];
      if (i < WARM_UP) continue;
      cold.push(triple[0]);
      hit.push(triple[1]);
      hitAgain.push(triple[2]);
    }
  } finally {
    agent.destroy();
  }
  const of = (values: number[]): Percentiles => ({ p50: percentile(values, 0.5), p99: percentile(values, 0.99) });
  const minus = (a: Percentiles, b: Percentiles): Percentiles => ({ p50: a.p50 - b.p50, p99: a.p99 - b.p99 });
  const [coldP, hitP, againP] = [of(cold), of(hit), of(hitAgain)];
  return {
    count: cold.length,
    cold: coldP,
    hit: hitP,
    added: minus(coldP, hitP),
    control: minus(againP, hitP),
    pairwise: { added: of(cold.map((c, i) => c - hit[i]!)), control: of(hitAgain.map((h, i) => h - hit[i]!)) },
  };
}

/** Presents each key once, `concurrency` at a time (fills the key cache). */
export async function presentAll(url: string, keys: string[], concurrency: number): Promise<void> {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const answer = await timedPost(target, agent, { "content-type": "application/json", "x-api-key": key }, TYPENAME_BODY);
      if (answer.status !== 200 || answer.text.trim() !== TYPENAME_ANSWER) throw new Error(`a seeded key got ${answer.status} ${answer.text.slice(0, 300)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
}
