// Small statistics for the bench: the median of rounds and how sure it is.

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A distribution-free ~95% confidence interval for the median: the order statistics whose ranks
 * bound the median's (binomial, normal approximation). Honest about a noisy machine.
 */
export function medianInterval(values: number[]): [number, number] {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const half = 1.96 * Math.sqrt(n) / 2;
  const lowRank = Math.max(0, Math.floor(n / 2 - half));
  const highRank = Math.min(n - 1, Math.ceil(n / 2 + half) - 1);
  return [sorted[lowRank]!, sorted[highRank]!];
}

/** The middle half of the values, as "a–b". */
export function spread(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.round(q * (sorted.length - 1))]!.toFixed(2);
  return `${at(0.25)}–${at(0.75)} in their middle half`;
}

/** The value below which a share `q` (0–1) of the values fall (nearest rank). */
export function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
