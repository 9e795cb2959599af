// Child process of bench:scale: sends forged well-formed keys (right length, alphabet and
// checksum, never issued) to the server from other loopback addresses, at a fixed rate for a
// fixed time, then reports what came back. Loopback only, bounded in count and time.
import { Agent } from "node:http";
import { generateKey } from "../../src/keys/key-format.ts";
import { timedPost } from "./timed-request.ts";

export interface FloodOrder {
  url: string;
  /** Source addresses in 127.0.0.0/8, one keep-alive agent each. */
  addresses: string[];
  requestsPerSecond: number;
  seconds: number;
  keyPrefix: string;
}

export interface FloodReport {
  sent: number;
  /** Requests not sent because `maxInFlight` were in flight already (the server fell behind). */
  skipped: number;
  maxInFlight: number;
  statuses: Record<string, number>;
  cpuMicros: number;
}

const MAX_IN_FLIGHT = 64;
const TICK_MS = 10;

async function flood(order: FloodOrder): Promise<FloodReport> {
  for (const address of order.addresses) {
    if (!address.startsWith("127.")) throw new Error(`flood source ${address} is not a loopback address`);
  }
  const url = new URL(order.url);
  if (url.hostname !== "127.0.0.1") throw new Error(`flood target ${url.hostname} is not 127.0.0.1`);
  const agents = order.addresses.map((localAddress) => new Agent({ keepAlive: true, maxSockets: 4, localAddress }));
  const body = JSON.stringify({ query: "{ __typename }" });
  const report: FloodReport = { sent: 0, skipped: 0, maxInFlight: MAX_IN_FLIGHT, statuses: {}, cpuMicros: 0 };
  const cpuBefore = process.cpuUsage();
  const total = Math.round(order.requestsPerSecond * order.seconds);
  const started = performance.now();
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  let next = 0;
  while (next < total) {
    // Due so far at the fixed rate; the loop wakes every 10 ms and sends what is due.
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * order.requestsPerSecond));
    for (; next < due; next++) {
      if (inFlight >= MAX_IN_FLIGHT) {
        report.skipped++;
        continue;
      }
      inFlight++;
      const agent = agents[next % agents.length]!;
      pending.push(
        timedPost(url, agent, { "content-type": "application/json", "x-api-key": generateKey(order.keyPrefix) }, body)
          .then((answer) => {
            report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
          }, () => {
            report.statuses.error = (report.statuses.error ?? 0) + 1;
          })
          .finally(() => inFlight--),
      );
      report.sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await Promise.all(pending);
  const cpu = process.cpuUsage(cpuBefore);
  report.cpuMicros = cpu.user + cpu.system;
  for (const agent of agents) agent.destroy();
  return report;
}

process.once("message", (order) => {
  process.send!("started");
  flood(order as FloodOrder).then(
    (report) => process.send!(report, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`flood: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
});
