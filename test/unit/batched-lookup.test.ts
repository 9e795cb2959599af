// The batcher's contract, over a plain function for a store: what one turn asks for goes out
// together, each caller gets its own answer, a failure reaches every caller of its batch only.
import { describe, expect, it } from "vitest";
import { createBatchedLookup } from "../../src/auth/batched-lookup.ts";

/** A store of `value-<key>` for keys starting with "k", recording what it was asked. */
function store(fail?: (keys: string[]) => boolean) {
  const asked: string[][] = [];
  const lookUpMany = async (keys: string[]) => {
    asked.push(keys);
    if (fail?.(keys)) throw new Error("store down");
    return new Map(keys.filter((k) => k.startsWith("k")).map((k) => [k, `value-${k}`]));
  };
  return { asked, lookUpMany };
}

describe("batched look-ups", () => {
  it("sends the look-ups of one turn as one call, each caller answered for its own key", async () => {
    const { asked, lookUpMany } = store();
    const find = createBatchedLookup(lookUpMany);
    const answers = await Promise.all(["k1", "x2", "k3", "k1"].map(find));
    expect(answers).toEqual(["value-k1", null, "value-k3", "value-k1"]);
    // The repeated key asked for once.
    expect(asked).toEqual([["k1", "x2", "k3"]]);
  });

  it("a look-up of a later turn goes out in a batch of its own", async () => {
    const { asked, lookUpMany } = store();
    const find = createBatchedLookup(lookUpMany);
    expect(await find("k1")).toBe("value-k1");
    expect(await find("k2")).toBe("value-k2");
    expect(asked).toEqual([["k1"], ["k2"]]);
  });

  it("a turn's look-ups beyond maxBatch go out as several calls", async () => {
    const { asked, lookUpMany } = store();
    const find = createBatchedLookup(lookUpMany, { maxBatch: 3 });
    const keys = ["k1", "k2", "k3", "k4", "k5", "k6", "k7"];
    expect(await Promise.all(keys.map(find))).toEqual(keys.map((k) => `value-${k}`));
    expect(asked).toEqual([["k1", "k2", "k3"], ["k4", "k5", "k6"], ["k7"]]);
  });

  it("a failed call fails the look-ups of its batch, not those of another", async () => {
    const { lookUpMany } = store((keys) => keys.includes("k2"));
    const find = createBatchedLookup(lookUpMany, { maxBatch: 2 });
    const settled = await Promise.allSettled(["k1", "k2", "k3"].map(find));
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect((settled[0] as PromiseRejectedResult).reason).toEqual(new Error("store down"));
    // And the next turn is asked afresh.
    expect(await find("k3")).toBe("value-k3");
  });

  it("an answer that cannot be read fails every caller of its batch, none is left waiting", async () => {
    const find = createBatchedLookup<string>(async () => ({}) as Map<string, string>);
    const settled = await Promise.allSettled(["k1", "k2"].map(find));
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
  });

  it("a store that throws at once (not a rejected promise) fails its callers the same way", async () => {
    const find = createBatchedLookup<string>(() => {
      throw new Error("no connection");
    });
    await expect(find("k1")).rejects.toThrow("no connection");
  });
});
