// What each stack module gives the child process (bench/servers.ts) that runs it.
import type { BenchKeys } from "../peer-keys.ts";

/** What a child sends to the parent once it listens. */
export interface ServerReady {
  url: string;
  /** Stacks with auth: a key that passes every guard and one that fails both. */
  keys?: BenchKeys;
}

export interface StackOptions {
  /** false: the same stack without its auth (no key look-up, no guards). */
  auth: boolean;
  /** Keyscope only: extra createKeyscopeServer options, for variants (a later /metrics on/off pair). */
  keyscope?: Record<string, unknown>;
}

export interface RunningStack {
  ready: ServerReady;
  close(): Promise<void>;
  /** Answers the parent's other requests (anything but "cpu"); bench:scale uses it. */
  handle?(request: string): Promise<unknown>;
}

export const HOST = "127.0.0.1";
