import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "../logger.ts";
import { classify, ErrorCode } from "../errors.ts";

export interface ErrorFormatterOptions {
  /**
   * Drop graphql-js's "Did you mean …?" hints (on fields, arguments, types and enum values, in
   * validation and in variable errors): they reveal the schema. On in production.
   * @default false
   */
  hideSuggestions?: boolean;
}

/**
 * The one place where service refusals become GraphQL codes, and where unexpected errors are
 * logged and hidden behind a plain message.
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

function formatWith(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const refusal = classify(original);
    if (refusal) {
      const { message, ...extensions } = refusal;
      return { ...formatted, message, extensions };
    }
    if (formatted.extensions?.code !== ErrorCode.INTERNAL_SERVER_ERROR || original instanceof GraphQLError) return formatted;
    logger.error({ err: original, path: formatted.path }, "unexpected error in a GraphQL operation");
    return {
      message: "Internal server error",
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
