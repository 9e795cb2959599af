import type { UsageBucket } from "../types.ts";

export function totals(buckets: readonly UsageBucket[]): { requests: number; rejected: number } {
  let requests = 0;
  let rejected = 0;
  for (const b of buckets) {
    requests += b.requests;
    rejected += b.rejected;
  }
  return { requests, rejected };
}

/** "12 requests, 1 rejected", for screen readers and titles. */
export function usageText(buckets: readonly UsageBucket[], period: string): string {
  const t = totals(buckets);
  return `${period}: ${t.requests.toLocaleString("en")} ${t.requests === 1 ? "request" : "requests"}, ${t.rejected.toLocaleString("en")} rejected`;
}
