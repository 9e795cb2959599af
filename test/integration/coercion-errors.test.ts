// SPEC §6 bad input, before any resolver runs: graphql-js's coercion errors (variables) and
// validation errors (literals) name the input field in extensions.field, as the services do, and
// never repeat the value sent (which may be a secret: the import `value`). Every input position of
// the management schema, found by walking it, with a wrongly typed value carrying a secret-like marker.
import { randomBytes } from "node:crypto";
import { isEnumType, isScalarType, type GraphQLNamedType } from "graphql";
import { describe, expect, it } from "vitest";
import { BASE62 } from "../../src/keys/key-format.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { expectedField, inputLeaves } from "../helpers/input-leaves.ts";
import { useOperationServer } from "../helpers/management-operations.ts";
import { apiKey } from "../helpers/server.ts";

/** Looks like a Keyscope key, and is a GraphQL name too (so it can stand as an enum literal). */
const SECRET = `ks_${Array.from(randomBytes(38), (b) => BASE62[b % 62]).join("")}`;

/** Values of the wrong type for a leaf, each holding the marker where it can. */
function wrongValues(type: GraphQLNamedType): unknown[] {
  if (isEnumType(type)) return [SECRET, [SECRET], 12];
  if (!isScalarType(type)) throw new Error(`no wrong values for ${type.name}`);
  switch (type.name) {
    case "String":
    case "ID":
      return [[SECRET], { secret: SECRET }, true];
    case "DateTime":
      return [SECRET, `2027-02-30T00:00:00Z${SECRET}`, [SECRET], 1_700_000_000];
    case "Int":
      return [SECRET, 2 ** 31, -(2 ** 31) - 1, 1.5, [SECRET]];
    case "Boolean":
      return [SECRET, 0, [SECRET]];
    default:
      throw new Error(`no wrong values for the scalar ${type.name}: add them`);
  }
}

const leaves = inputLeaves();

describe.each(databaseKinds)("coercion errors on %s", (kind) => {
  const { at, send } = useOperationServer(kind);

  it.each(leaves.map((l) => [l.coordinate, expectedField(l), l]))("%s: named as %s, in variables and in literals, the value never repeated", async (_, field, leaf) => {
    const values = [...wrongValues(leaf.type), ...(leaf.inList ? [null] : [])];
    for (const value of values) {
      for (const inline of [false, true]) {
        const res = await send(leaf, leaf.inList ? ["fine", value] : value, { inline });
        const what = `${JSON.stringify(value)} ${inline ? "inline" : "in a variable"}: ${res.text}`;
        expect(res.status, what).toBe(400);
        expect(res.json.data, what).toBeUndefined();
        expect(res.json.errors.length, what).toBeGreaterThanOrEqual(1);
        for (const error of res.json.errors) {
          expect(error.extensions, what).toEqual({ code: inline ? "GRAPHQL_VALIDATION_FAILED" : "BAD_USER_INPUT", field });
          expect(error.message.length, what).toBeGreaterThan(10);
        }
        expect(res.text, what).not.toContain(SECRET);
        expect(res.text, what).not.toContain(SECRET.slice(3, 20));
      }
    }
  });

  describe("the examples of issue 10", () => {
    const CREATE = "mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }";
    const base = { name: "coerced", clientType: "mobile" };
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ["a day February lacks", { ...base, expiresAt: "2027-02-30T00:00:00Z" }, "expiresAt", /^Variable "\$input" got an invalid value at "input\.expiresAt": DateTime must be an RFC 3339 date-time .*; this one has a day that its month does not have\.$/],
      ["hour 24", { ...base, expiresAt: "2027-02-01T24:00:00Z" }, "expiresAt", /this one has an hour outside 00–23/],
      ["an Int over 2³¹", { ...base, rateLimit: { limit: 2 ** 31, windowSeconds: 60 } }, "rateLimit.limit", /^Variable "\$input" got an invalid value at "input\.rateLimit\.limit": Int cannot represent non 32-bit signed integer value\.$/],
      ["null in a list", { ...base, scopes: ["a", null] }, "scopes", /at "input\.scopes\[1\]": Expected non-nullable type "String!" not to be null\.$/],
      ["a wrong type", { ...base, name: 42 }, "name", /at "input\.name": String cannot represent a non string value\.$/],
      ["a missing field", { clientType: "mobile" }, "name", /^Variable "\$input" got an invalid value: Field "name" of required type "String!" was not provided\.$/],
      ["an unknown field", { ...base, colour: "red" }, "colour", /^Variable "\$input" got an invalid value: Field "colour" is not defined by type "CreateApiKeyInput"\./],
    ];
    it.each(cases)("%s", async (_, input, field, message) => {
      const res = await at.server.query(CREATE, [apiKey(at.admin.secret)], { input });
      expect(res.status).toBe(400);
      expect(res.json.errors).toHaveLength(1);
      expect(res.json.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT", field });
      expect(res.json.errors[0].message).toMatch(message);
    });

    it("an unknown enum value, inline and in a variable", async () => {
      const inline = await at.server.query('mutation { createUser(input: { email: "e@example.com", role: OWNER }) { id } }', [apiKey(at.admin.secret)]);
      expect(inline.json.errors).toEqual([expect.objectContaining({ message: 'This value does not exist in the "Role" enum.', extensions: { code: "GRAPHQL_VALIDATION_FAILED", field: "role" } })]);
      const variable = await at.server.query("query ($f: ApiKeyFilter) { apiKeys(filter: $f) { totalCount } }", [apiKey(at.admin.secret)], { f: { status: "GONE" } });
      expect(variable.json.errors).toEqual([expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "filter.status" } })]);
    });

    it("a missing required argument, and a variable used deep inside a literal", async () => {
      const missing = await at.server.query("mutation { revokeApiKey { id } }", [apiKey(at.admin.secret)]);
      expect(missing.json.errors[0].extensions).toEqual({ code: "GRAPHQL_VALIDATION_FAILED", field: "id" });
      const deep = await at.server.query(
        "mutation ($limit: Int!) { createApiKey(input: { name: \"n\", clientType: \"mobile\", rateLimit: { limit: $limit, windowSeconds: 60 } }) { secret } }",
        [apiKey(at.admin.secret)],
        { limit: "many" },
      );
      expect(deep.json.errors).toEqual([expect.objectContaining({ message: 'Variable "$limit" got an invalid value: Int cannot represent non-integer value.', extensions: { code: "BAD_USER_INPUT", field: "rateLimit.limit" } })]);
    });

    it("an import whose input is wrong elsewhere does not repeat its value", async () => {
      const res = await at.server.query("mutation ($input: ImportApiKeyInput!) { importApiKey(input: $input) { id } }", [apiKey(at.admin.secret)], {
        input: { value: SECRET.replace("ks_", "legacy_"), userId: at.fixtures.memberUserId, clientType: "mobile", extra: 1 },
      });
      expect(res.status).toBe(400);
      expect(res.json.errors.map((e: any) => e.extensions.field).sort()).toEqual(["extra", "name"]);
      expect(res.text).not.toContain(SECRET.slice(3));
    });
  });
});
