import type { Clock } from "../../src/clock.ts";

/** A clock the test moves by hand; starts at the real time so database timestamps stay comparable. */
export function manualClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}
