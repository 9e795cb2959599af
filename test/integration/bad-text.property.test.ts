// SPEC §6 bad input: every text input of every operation in schema/management.graphql (found by
// walking the schema) refuses control, bidi and invisible characters with BAD_USER_INPUT naming
// the field, changes nothing, logs no error, and never answers INTERNAL_SERVER_ERROR.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { INVISIBLE_TEXTS, forbiddenChar, insertAt } from "../helpers/bad-text.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { expectedField, inputLeaves, isTextLeaf, type InputLeaf } from "../helpers/input-leaves.ts";
import { REACH, VALID, snapshot, useOperationServer } from "../helpers/management-operations.ts";

/** One of each kind of forbidden character (INVISIBLE_TEXTS: text that shows nothing). */
const EXAMPLES = ["\u0000", "\u001b", "\n", "\u007f", "\u009b", "\u2028", "\u202e", "\u2066", "\u200f", "\u200b", "\ufeff", "\u{e0041}", "\ud800"];

const leaves = inputLeaves().filter(isTextLeaf);
/** Descriptions may hold line feeds and tabs (and nothing else of the kind). */
const allowedIn = (leaf: InputLeaf, char: string) => leaf.path.at(-1) === "description" && (char === "\n" || char === "\t");

describe("the walk over the management schema", () => {
  it("finds the text inputs, and every one of them has a valid value to start from", () => {
    expect(leaves.length).toBeGreaterThanOrEqual(30);
    for (const name of ["Mutation.createApiKey", "Mutation.importApiKey", "Mutation.createUser", "Query.auditEvents", "ApiKey.usage"]) {
      expect(leaves.some((l) => `${l.owner}.${l.field}` === name), name).toBe(true);
    }
    const missing = leaves.filter((l) => !VALID[l.coordinate]).map((l) => l.coordinate);
    expect(missing, "text inputs without a VALID entry").toEqual([]);
    const unreachable = leaves.filter((l) => !REACH[l.owner]).map((l) => l.owner);
    expect(unreachable, "types without a REACH entry").toEqual([]);
  });
});

describe.each(databaseKinds)("bad text in every text input on %s", (kind) => {
  const { at, send } = useOperationServer(kind);

  it("each operation is valid as built, so what is refused below is the bad text alone", async () => {
    for (const leaf of leaves) {
      const res = await send(leaf, VALID[leaf.coordinate]!(at.fixtures));
      expect(res.json.errors, `${leaf.coordinate}: ${JSON.stringify(res.json.errors)}`).toBeUndefined();
    }
  });

  it.each(leaves.map((l) => [l.coordinate, expectedField(l), l]))("%s: refused as BAD_USER_INPUT on field %s, nothing changed", async (_, field, leaf) => {
    const valid = String(VALID[leaf.coordinate]!(at.fixtures));
    const refuse = async (bad: string) => {
      const before = await snapshot(at.server);
      const res = await send(leaf, bad);
      const errors = res.json?.errors;
      expect(errors, `${JSON.stringify(bad)} in ${leaf.coordinate}`).toHaveLength(1);
      expect(errors[0].extensions).toEqual({ code: "BAD_USER_INPUT", field });
      // The field did not resolve (null, or no data at all for a variable refused before execution).
      expect(JSON.stringify(res.json.data ?? null)).not.toContain("__typename");
      expect(await snapshot(at.server)).toEqual(before);
    };
    for (const char of EXAMPLES.filter((c) => !allowedIn(leaf, c))) await refuse(insertAt(valid, char, Math.floor(valid.length / 2)));
    for (const text of INVISIBLE_TEXTS) await refuse(text);
    await fc.assert(
      fc.asyncProperty(forbiddenChar.filter((c) => !allowedIn(leaf, c)), fc.nat(), async (char, at) => refuse(insertAt(valid, char, at % (valid.length + 1)))),
      { numRuns: 6 },
    );
  });

  it("logged no error while refusing all that", () => {
    const lines = at.server.logs().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { level: number });
    expect(lines.length).toBeGreaterThan(leaves.length);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(at.server.logs()).not.toContain("INTERNAL_SERVER_ERROR");
  });
});
