import type { GuardReason } from "./errors.ts";

/**
 * What Keyscope tells its metrics as requests pass. Every part that counts something takes a
 * `Metrics`; `noopMetrics` is the default, so a part works the same with metrics off. Labels are
 * bounded: never a key, a key id or a client address.
 */
export interface Metrics {
  /** The directive refused a field. */
  fieldRefused(reason: GuardReason): void;
}

/** Counts nothing. */
export const noopMetrics: Metrics = Object.freeze({
  fieldRefused: () => {},
});
