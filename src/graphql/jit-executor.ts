import type { GatewayInterface } from "@apollo/server-gateway-interface";
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from "graphql";
import { getVariableValues } from "graphql/execution/values.js";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";

type Result = ExecutionResult<Record<string, unknown>>;

/**
 * The opt-in faster executor (`executor: "graphql-jit"`, KEYSCOPE_EXECUTOR): graphql-jit
 * compiles each operation once into plain JavaScript and runs that, behind Apollo's gateway hook
 * (Apollo's only seam for replacing execution). Everything before execution is Apollo's as
 * always: parsing, validation, graphql-armor, the cost limit, plugins, error formatting. The
 * schema's resolvers — `@requiresKey`'s guards among them — are the same functions; only the
 * walk over the selection set that calls them is compiled.
 *
 * Operations are compiled per document (Apollo keeps one DocumentNode per query text in its
 * document store, which bounds them) and operation name.
 */
export function jitGateway(schema: GraphQLSchema): GatewayInterface {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | Result>>();
  const compile = (document: DocumentNode, operationName: string | undefined) => {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map()));
    const name = operationName ?? "";
    let query = byName.get(name);
    if (!query) byName.set(name, (query = compileQuery(schema, document, operationName) as CompiledQuery | Result));
    return query;
  };
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: "" });
      return () => {};
    },
    async load() {
      return {
        executor: async (requestContext) => {
          const { document } = requestContext;
          const operationName = requestContext.operationName ?? undefined;
          const query = compile(document, operationName);
          // Not compiled: the errors graphql-js would give (unknown operation, several without a name).
          if (!isCompiledQuery(query)) return query;
          const variables = requestContext.request.variables ?? {};
          // Variables are checked by graphql-js first, so that a bad one is refused in its words
          // (the field named, the value not repeated: format-error.ts), as without graphql-jit.
          const operation = getOperationAST(document, operationName);
          if (operation?.variableDefinitions?.length) {
            const coerced = getVariableValues(schema, operation.variableDefinitions, variables, { maxErrors: 50 });
            if (coerced.errors) return { errors: coerced.errors };
          }
          const result = (await query.query(undefined, requestContext.context, variables)) as Result;
          return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
        },
      };
    },
    async stop() {},
  };
}

/**
 * graphql-jit's errors inherit GraphQLError's prototype but not its fields (no `extensions`,
 * which Apollo reads): rebuilt as graphql-js builds them for a resolver's error.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  if (error.extensions) return error;
  const original = error.originalError;
  if (original instanceof GraphQLError && original.extensions && original.path) return original;
  const rebuilt = new GraphQLError(error.message, { path: error.path, originalError: original ?? null });
  (rebuilt as { locations: GraphQLError["locations"] }).locations = error.locations;
  return rebuilt;
}
