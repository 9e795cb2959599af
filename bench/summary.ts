// The bench's ratios: each from the rounds' own ratios (variants measured in the same round
// share the machine's state, so drift between rounds cancels), as a median with its 95% interval.
import type { Sample } from "./measure.ts";
import { median, medianInterval } from "./stats.ts";

export interface Ratio {
  median: number;
  low: number;
  high: number;
}

/** a ÷ b by throughput: req/s of a over req/s of b, per round. */
export function byThroughput(a: Sample[], b: Sample[]): Ratio {
  return ratio(a.map((s, i) => s.reqPerSec / b[i]!.reqPerSec));
}

/** a ÷ b by server CPU per request, inverted so that it reads like throughput (higher is better). */
export function byCpu(a: Sample[], b: Sample[]): Ratio {
  return ratio(a.map((s, i) => b[i]!.cpuMicrosPerRequest / s.cpuMicrosPerRequest));
}

export function ratio(perRound: number[]): Ratio {
  const [low, high] = medianInterval(perRound);
  return { median: median(perRound), low, high };
}

export function show(r: Ratio): string {
  return `${r.median.toFixed(3)} [${r.low.toFixed(2)}–${r.high.toFixed(2)}]`;
}

/** "met" or "NOT met" on the median, and whether the interval agrees. */
export function verdict(r: Ratio, target: number): string {
  if (r.low >= target) return "met (the whole interval is above)";
  if (r.median >= target) return "met by the median (the interval reaches below)";
  if (r.high >= target) return "NOT met by the median (the interval reaches above)";
  return "NOT met (the whole interval is below)";
}
