import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";
import { parseRfc3339 } from "./date-time.ts";

/** The reason a DateTime is refused; never the value itself. */
function dateTimeProblem(value: unknown): { date: Date } | { message: string } {
  if (typeof value !== "string") return { message: "DateTime must be a string such as 2026-12-31T23:59:59Z." };
  const parsed = parseRfc3339(value);
  if (parsed.ok) return { date: parsed.date };
  return { message: `DateTime must be an RFC 3339 date-time such as 2026-12-31T23:59:59Z; this one ${parsed.problem}.` };
}

/**
 * RFC 3339 strings on the wire (strict: see date-time.ts), Dates inside. A literal's refusal is a
 * plain Error so that graphql-js reports it with the literal's location, which the error formatter
 * turns into `extensions.field`.
 */
export const DateTime = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: (value) => {
    const result = dateTimeProblem(value);
    if ("message" in result) throw new GraphQLError(result.message);
    return result.date;
  },
  parseLiteral: (ast) => {
    const result = dateTimeProblem(ast.kind === Kind.STRING ? ast.value : undefined);
    if ("message" in result) throw new Error(result.message);
    return result.date;
  },
});

/** Any JSON value, passed through. */
export const JSON = new GraphQLScalarType({
  name: "JSON",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: function literal(ast: ValueNode): unknown {
    switch (ast.kind) {
      case Kind.STRING:
      case Kind.BOOLEAN:
        return ast.value;
      case Kind.INT:
      case Kind.FLOAT:
        return Number(ast.value);
      case Kind.NULL:
        return null;
      case Kind.LIST:
        return ast.values.map(literal);
      case Kind.OBJECT:
        return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
      default:
        throw new GraphQLError("JSON literals cannot contain variables.");
    }
  },
});
