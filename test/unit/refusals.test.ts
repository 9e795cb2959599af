// Refusals are shared values (one per reason, one per wait) whose bodies the door keeps: each
// must say its own wait, and none can be changed by whoever receives it.
import { describe, expect, it } from "vitest";
import { keyRefusal, rateLimitRefusal, throttledRefusal, type RequestRefusal } from "../../src/errors.ts";
import { refusalAnswer } from "../../src/http/door-refusal.ts";

const retryAfter = (r: RequestRefusal) => r.headers.find(([name]) => name === "retry-after")?.[1];

describe("shared refusals", () => {
  it("a throttled refusal says its own wait, in the message, the header and the door's body", () => {
    for (const seconds of [1, 7, 8, 60, 7]) {
      const refusal = throttledRefusal(seconds);
      expect(retryAfter(refusal)).toBe(String(seconds));
      expect(refusal.message).toContain(`Retry in ${seconds} s.`);
      expect(JSON.parse(refusalAnswer(refusal, undefined).body).errors[0].message).toBe(refusal.message);
    }
    expect(throttledRefusal(7)).toBe(throttledRefusal(7));
    expect(throttledRefusal(7)).not.toBe(throttledRefusal(8));
  });

  it("past the cache's bound the waits are still each their own", () => {
    for (let seconds = 1; seconds <= 5000; seconds++) expect(retryAfter(throttledRefusal(seconds))).toBe(String(seconds));
    expect(throttledRefusal(3).message).toContain("Retry in 3 s.");
  });

  it.each([
    ["a throttled refusal", throttledRefusal(5)],
    ["a key refusal", keyRefusal("KEY_INVALID")],
    ["a rate-limit refusal", rateLimitRefusal({ limit: 10, remaining: 0, resetSeconds: 3 })],
  ])("%s cannot be changed by whoever receives it", (_name, refusal) => {
    const before = JSON.stringify(refusal);
    const r = refusal as unknown as { message: string; status: number; extensions: Record<string, unknown>; headers: [string, string][] };
    expect(() => (r.message = "changed")).toThrow(TypeError);
    expect(() => (r.status = 200)).toThrow(TypeError);
    expect(() => (r.extensions.code = "OK")).toThrow(TypeError);
    expect(() => r.headers.push(["x-extra", "1"])).toThrow(TypeError);
    expect(() => (r.headers[0]![1] = "999")).toThrow(TypeError);
    expect(JSON.stringify(refusal)).toBe(before);
  });
});
