// Cold verification over real HTTP: each key presented for the first time (cache miss →
// PostgreSQL), each followed on the same keep-alive connection by the key before it, which the
// cache now holds (a cache hit; not the connection's last key, so the LRU is really asked).
import { Agent } from "node:http";
import { percentile } from "../stats.ts";
import { timedPost } from "./timed-request.ts";

export const TYPENAME_BODY = JSON.stringify({ query: "{ __typename }" });
export const TYPENAME_ANSWER = JSON.stringify({ data: { __typename: "Query" } });

export interface ColdResult {
  count: number;
  cold: { p50: number; p99: number };
  hit: { p50: number; p99: number };
  /** Of each pair's own difference (cold − the hit right after it). */
  added: { p50: number; p99: number };
}

export async function measureColdVerification(url: string, keys: string[], warmKey: string): Promise<ColdResult> {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const cold: number[] = [];
  const hit: number[] = [];
  try {
    const ask = async (key: string) => {
      const answer = await timedPost(target, agent, { "content-type": "application/json", "x-api-key": key }, TYPENAME_BODY);
      if (answer.status !== 200 || answer.text.trim() !== TYPENAME_ANSWER) throw new Error(`a seeded key got ${answer.status} ${answer.text.slice(0, 300)}`);
      return answer.ms;
    };
    await ask(warmKey);
    let previous = warmKey;
    for (const key of keys) {
      cold.push(await ask(key));
      hit.push(await ask(previous));
      previous = key;
    }
  } finally {
    agent.destroy();
  }
  const pair = (values: number[]) => ({ p50: percentile(values, 0.5), p99: percentile(values, 0.99) });
  return { count: keys.length, cold: pair(cold), hit: pair(hit), added: pair(cold.map((c, i) => c - hit[i]!)) };
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
