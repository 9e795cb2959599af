import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "../logger.ts";
import { connectionFailureCode } from "../db/connection-failure.ts";
import { classify, ErrorCode } from "../errors.ts";
import { describeInputError } from "./input-error.ts";

export interface ErrorFormatterOptions {
  /**
   * Drop graphql-js's "Did you mean …?" hints (on fields, arguments, types and enum values, in
   * validation and in variable errors): they reveal the schema. On in production.
   * @default false
   */
  hideSuggestions?: boolean;
}

/**
 * The one place where service refusals become GraphQL codes, where graphql-js's errors about
 * input values get `extensions.field` (and lose the value they repeat), and where unexpected
 * errors are logged and hidden behind a plain message.
 */
export function createErrorFormatter(logger: Logger, options: ErrorFormatterOptions = {}) {
  const format = formatWith(logger);
  return options.hideSuggestions ? (formatted: GraphQLFormattedError, error: unknown) => withoutSuggestions(format(formatted, error)) : format;
}

/** graphql-js writes ` Did you mean "a", "b", or "c"?` or ` Did you mean the enum value "A"?`; names hold no `?`. */
function withoutSuggestions(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const message = formatted.message.replace(/ ?Did you mean [^?]*\?/g, "");
  return message === formatted.message ? formatted : { ...formatted, message };
}

/** Apollo's code for documents that fail validation, literal input values among them. */
const VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED";

function formatWith(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const refusal = classify(original);
    if (refusal) {
      // An outage is worth a line for the operator; only its code, never the failed query.
      if (refusal.reason === "KEY_STORE_UNAVAILABLE") logger.warn({ code: connectionFailureCode(original), path: formatted.path }, "the database is unreachable");
      const { message, ...extensions } = refusal;
      return { ...formatted, message, extensions };
    }
    const code = formatted.extensions?.code;
    if ((code === ErrorCode.BAD_USER_INPUT || code === VALIDATION_FAILED) && original instanceof GraphQLError) {
      const input = describeInputError(original);
      return input ? { ...formatted, message: input.message, extensions: { ...formatted.extensions, field: input.field } } : formatted;
    }
    if (code !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
    // A GraphQLError meant as such passes; one that wraps another error (Apollo's "Context
    // creation failed: …") would show that error's message, which may hold SQL and its values.
    const cause = original instanceof GraphQLError ? original.originalError : original;
    if (original instanceof GraphQLError && (cause === undefined || cause instanceof GraphQLError)) return formatted;
    logger.error({ err: cause, path: formatted.path }, "unexpected error in a GraphQL operation");
    return {
      message: "Internal server error",
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
