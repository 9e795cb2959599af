// One measurement: autocannon against one variant for some seconds, with the server process's
// CPU time read before and after. Every answer must be the expected one, or the run is void.
import autocannon from "autocannon";
import type { ChildProcess } from "node:child_process";
import { serverCpuMicros } from "./children.ts";

export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The exact response body every request must get (checked by hand first, see check-answers.ts). */
  expectBody: string;
  expectStatus: number;
  server: ChildProcess;
}

export interface Sample {
  reqPerSec: number;
  p99Ms: number;
  /** The server process's CPU time (user + system) per request: less swayed by other load than req/s. */
  cpuMicrosPerRequest: number;
  /** The load generator's (this process's) CPU time per request: it shares the machine's cores. */
  clientCpuMicrosPerRequest: number;
}

export async function measure(target: Target, seconds: number, connections: number): Promise<Sample> {
  const cpuBefore = await serverCpuMicros(target.server);
  const clientBefore = process.cpuUsage();
  const result = await autocannon({
    url: target.url,
    method: "POST",
    headers: target.headers,
    body: target.body,
    connections,
    duration: seconds,
    expectBody: target.expectBody,
  });
  const client = process.cpuUsage(clientBefore);
  const cpu = (await serverCpuMicros(target.server)) - cpuBefore;
  const statuses = Object.keys(result.statusCodeStats ?? {}).map(Number);
  if (result.errors > 0 || result.mismatches > 0 || statuses.some((s) => s !== target.expectStatus)) {
    throw new Error(
      `${target.name}: ${result.errors} errors, ${result.mismatches} answers other than the expected body, statuses ${statuses.join(", ")} (expected ${target.expectStatus})`,
    );
  }
  return {
    reqPerSec: result.requests.mean,
    p99Ms: result.latency.p99,
    cpuMicrosPerRequest: cpu / result.requests.total,
    clientCpuMicrosPerRequest: (client.user + client.system) / result.requests.total,
  };
}
