// The one error formatter (src/graphql/format-error.ts) on inline SDL, executed for real with
// graphql-js: input errors get their field, unexpected errors are logged scrubbed and masked.
import { Writable } from "node:stream";
import { GraphQLError, buildSchema, graphql, type GraphQLFormattedError } from "graphql";
import { describe, expect, it } from "vitest";
import { createErrorFormatter } from "../../src/graphql/format-error.ts";
import { serviceFieldName, withoutValues } from "../../src/graphql/input-error.ts";
import { DateTime } from "../../src/graphql/scalars.ts";
import { createLogger } from "../../src/logger.ts";

const schema = buildSchema(`
  scalar DateTime
  enum Colour { RED GREEN }
  input Window { from: DateTime!, until: DateTime }
  input Paint { name: String!, colours: [Colour!], window: Window, coats: Int }
  type Query { paint(input: Paint!, id: ID): Int, since(at: DateTime): Int }
`);
Object.assign(schema.getType("DateTime")!, { parseValue: DateTime.parseValue, parseLiteral: DateTime.parseLiteral });

function capture() {
  const lines: string[] = [];
  const logger = createLogger("trace", new Writable({ write: (c, _e, done) => void (lines.push(String(c)), done()) }));
  return { logger, lines };
}

/** Runs a document as Apollo would report its errors (validation or variable coercion), formatted. */
async function run(source: string, variableValues?: Record<string, unknown>) {
  const { logger } = capture();
  const format = createErrorFormatter(logger);
  const result = await graphql({ schema, source, variableValues, rootValue: { paint: () => 1, since: () => 1 } });
  // Apollo sets these codes; graphql-js alone does not.
  const code = /^Variable "\$/.test(result.errors?.[0]?.message ?? "") ? "BAD_USER_INPUT" : "GRAPHQL_VALIDATION_FAILED";
  return (result.errors ?? []).map((error) => format({ ...error.toJSON(), extensions: { code } }, error));
}

const fields = (errors: GraphQLFormattedError[]) => errors.map((e) => e.extensions?.field);

describe("input errors", () => {
  it.each([
    ['{ paint(input: { name: "n", window: { from: "2027-02-30T00:00:00Z" } }) }', undefined, "window.from"],
    ['{ paint(input: { name: "n", coats: 99999999999 }) }', undefined, "coats"],
    ['{ paint(input: { name: "n", colours: [RED, BLUE] }) }', undefined, "colours"],
    ['{ paint(input: { name: "n", colours: [null] }) }', undefined, "colours"],
    ["{ paint(input: { }) }", undefined, "name"],
    ['{ paint(input: { name: "n", shade: 1 }) }', undefined, "shade"],
    ['{ paint(input: { name: "n" }, id: [1]) }', undefined, "id"],
    ['{ since(at: "soon") }', undefined, "at"],
    ["{ paint }", undefined, "input"],
    ["query ($p: Paint!) { paint(input: $p) }", { p: { name: "n", window: { from: "x" } } }, "window.from"],
    ["query ($p: Paint!) { paint(input: $p) }", { p: { colours: ["RED"] } }, "name"],
    ["query ($p: Paint!) { paint(input: $p) }", {}, "input"],
    ["query ($c: Colour) { paint(input: { name: \"n\", colours: [$c] }) }", { c: "BLUE" }, "colours"],
    ["query ($f: DateTime!) { paint(input: { name: \"n\", window: { from: $f } }) }", { f: 5 }, "window.from"],
  ])("%s %j: field %s", async (source, variables, field) => {
    const errors = await run(source, variables as Record<string, unknown> | undefined);
    expect(errors).toHaveLength(1);
    expect(fields(errors)).toEqual([field]);
  });

  it("messages keep the reason and drop the value", () => {
    expect(withoutValues('Expected value of type "DateTime", found "2027-02-30"; DateTime must be real.', "DateTime must be real.")).toBe(
      'Expected a value of type "DateTime": DateTime must be real.',
    );
    expect(withoutValues('Expected value of type "String!", found null.')).toBe('Expected value of type "String!", found null.');
    expect(withoutValues('Expected value of type "Paint", found ["secret"].')).toBe('Expected a value of type "Paint".');
    expect(withoutValues('String cannot represent a non string value: ["secret"]')).toBe("String cannot represent a non string value.");
    expect(withoutValues('Enum "Colour" cannot represent non-enum value: "secret". Did you mean the enum value "RED"?')).toBe('Enum "Colour" cannot represent non-enum value.');
    expect(withoutValues('Value "secret" does not exist in "Colour" enum. Did you mean the enum value "RED"?')).toBe(
      'This value does not exist in the "Colour" enum. Did you mean the enum value "RED"?',
    );
    expect(withoutValues('Field "not a name: secret" is not defined by type "Paint".')).toBe('A field is not defined by type "Paint".');
    expect(withoutValues('Field "shade" is not defined by type "Paint".')).toBe('Field "shade" is not defined by type "Paint".');
  });

  it("names fields as the services do", () => {
    expect(serviceFieldName(["input", "rateLimit", "limit"])).toBe("rateLimit.limit");
    expect(serviceFieldName(["input"])).toBe("input");
    expect(serviceFieldName(["filter", "userId"])).toBe("filter.userId");
  });
});

describe("unexpected errors", () => {
  const drizzleLike = () => Object.assign(new Error("Failed query: select 1 where email = $1\nparams: ada@example.com"), { query: "select 1 where email = $1", params: ["ada@example.com"] });

  it("a resolver's error is logged without its parameters and answered with a plain message", () => {
    const { logger, lines } = capture();
    const error = new GraphQLError("Failed query: …", { path: ["me"], originalError: drizzleLike() });
    const formatted = createErrorFormatter(logger)({ message: error.message, path: ["me"], extensions: { code: "INTERNAL_SERVER_ERROR" } }, error);
    expect(formatted).toEqual({ message: "Internal server error", path: ["me"], extensions: { code: "INTERNAL_SERVER_ERROR" } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("Failed query: select 1 where email = $1");
    expect(lines[0]).not.toContain("ada@example.com");
  });

  it("Apollo's 'Context creation failed' wrapper does not show the wrapped error's message", () => {
    const { logger, lines } = capture();
    const cause = drizzleLike();
    const wrapper = new GraphQLError(`Context creation failed: ${cause.message}`, { originalError: cause });
    const formatted = createErrorFormatter(logger)({ message: wrapper.message, extensions: { code: "INTERNAL_SERVER_ERROR" } }, wrapper);
    expect(formatted.message).toBe("Internal server error");
    expect(JSON.stringify(formatted)).not.toContain("ada@example.com");
    expect(lines.join("")).not.toContain("ada@example.com");
  });

  it("a GraphQLError meant as an internal error passes as it is", () => {
    const { logger, lines } = capture();
    const meant = new GraphQLError("The key store is being migrated.");
    const formatted = createErrorFormatter(logger)({ message: meant.message, extensions: { code: "INTERNAL_SERVER_ERROR" } }, meant);
    expect(formatted.message).toBe("The key store is being migrated.");
    expect(lines).toEqual([]);
  });
});
