import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from "@apollo/server";
import { systemClock, type Clock } from "../clock.ts";
import { fieldInsideItself, queryTooCostly } from "../errors.ts";
import { usageBucketCount } from "../limits/usage-query.ts";
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from "graphql";
import { queryCost, type CostVerdict, type QueryCostOptions } from "./query-cost.ts";

export interface CostLimitOptions extends QueryCostOptions {
  /** The most one operation may cost (see queryCost); above it, 400 and nothing runs. */
  maxCost: number;
}

/**
 * What the management schema needs beyond its `@listSize`s: ApiKey.usage answers one bucket an
 * hour of its range, and User.apiKeys inside User.apiKeys would only list the same keys again.
 */
export function managementCost(clock: Clock = systemClock): QueryCostOptions {
  return {
    listSizes: { "ApiKey.usage": ({ since, until }) => usageBucketCount(since as Date | undefined, until as Date | undefined, clock.now()) },
    notInsideItself: { "User.apiKeys": "the owner of a user's key is that user, whose keys are the list being read." },
  };
}

/**
 * Refuses, once the operation is known and before anything executes, an operation whose cost
 * is over `maxCost` (400, QUERY_TOO_COSTLY / QUERY_COST_EXCEEDED, with `cost` and `maxCost`), and
 * a `notInsideItself` field inside itself (400, QUERY_TOO_COSTLY / FIELD_INSIDE_ITSELF). It runs
 * in didResolveOperation, not as a validation rule, because list sizes come from variables
 * (`first: $n`); its errors carry `extensions.http.status`, without which Apollo answers 500.
 */
export function costLimitPlugin<TContext extends BaseContext>(options: CostLimitOptions): ApolloServerPlugin<TContext> {
  // One listener for every request: nothing is allocated per request but the walk itself.
  const listener = costLimitListener<TContext>(options);
  return { requestDidStart: async () => listener };
}

/** The plugin's one listener, for a server that joins it with its other per-request hooks (apollo.ts). */
export function costLimitListener<TContext extends BaseContext>(options: CostLimitOptions): Pick<GraphQLRequestListener<TContext>, "didResolveOperation"> {
  const check = costCheck(options);
  return {
    async didResolveOperation({ schema, document, operation, request }) {
      if (operation) check(schema, document, operation, request.variables); // else Apollo has refused the request already
    },
  };
}

/**
 * The check itself: throws the 400 GraphQLError when the operation is refused. An operation
 * without variables whose walk asked no `listSizes` function (those may read the clock) costs
 * the same every time: its verdict is kept with the operation's node, which Apollo's document
 * cache hands back for the same query text, so a repeated query is not walked again.
 */
export function costCheck(options: CostLimitOptions) {
  const { maxCost, listSizes, ...rest } = options;
  const verdicts = new WeakMap<OperationDefinitionNode, CostVerdict>();
  let askedListSizes = false;
  const watchedListSizes =
    listSizes &&
    Object.fromEntries(
      Object.entries(listSizes).map(([coordinate, size]) => [
        coordinate,
        (args: Record<string, unknown>) => {
          askedListSizes = true;
          return size(args);
        },
      ]),
    );
  const costOptions: QueryCostOptions = { ...rest, ...(watchedListSizes ? { listSizes: watchedListSizes } : {}) };
  return (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): void => {
    let verdict = verdicts.get(operation);
    if (!verdict) {
      askedListSizes = false;
      verdict = queryCost(schema, document, operation, variables, costOptions);
      if (!operation.variableDefinitions?.length && !askedListSizes) verdicts.set(operation, verdict);
    }
    if (verdict.kind === "inside-itself") throw fieldInsideItself(verdict.coordinate, verdict.why);
    if (verdict.kind === "cost" && verdict.cost > maxCost) throw queryTooCostly(verdict.cost, maxCost);
  };
}
