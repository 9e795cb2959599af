import { ApolloServer, type ApolloServerPlugin, type BaseContext, type GraphQLRequestListener } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { GraphQLSchema } from "graphql";
import type { Clock } from "../clock.ts";
import type { KeyscopeConfig } from "../config.ts";
import type { Logger } from "../logger.ts";
import { costLimitListener, managementCost } from "./cost-limit.ts";
import { createErrorFormatter } from "./format-error.ts";
import { jitGateway } from "./jit-executor.ts";
import { outageStatusListener } from "./outage-status.ts";

/**
 * Apollo Server with Keyscope's limits (graphql-armor, the parser, the cost limit), error
 * formatting and outage status, then `plugins` (the library user's), which see the request
 * without its key when `hideCredentials` is on (http/graphql-route.ts).
 */
export function createApollo<TContext extends BaseContext>(
  config: KeyscopeConfig,
  logger: Logger,
  schema: GraphQLSchema,
  options: { plugins?: readonly ApolloServerPlugin<TContext>[]; clock?: Clock } = {},
): ApolloServer<TContext> {
  const armor = new ApolloArmor({
    // Fragments are not levels: without flattening, every spread adds two to the depth.
    maxDepth: { n: config.limits.maxDepth, flattenFragments: true },
    maxAliases: { n: config.limits.maxAliases },
    // Counted by graphql-js's own parser (parseOptions below): armor's Apollo plugin throws from a
    // hook, which turns every syntax error and every refused query into an HTTP 500.
    maxTokens: { enabled: false },
    // Suggestions ("Did you mean …?") reveal the schema; hidden in production by formatError, which
    // also catches the enum-value hints that armor's pattern misses.
    blockFieldSuggestion: { enabled: false },
    // armor's costLimit cannot weigh lists by their size; cost-limit.ts does, below.
    costLimit: { enabled: false },
  }).protect();
  return new ApolloServer<TContext>({
    // Apollo takes either a schema (run by graphql-js) or a gateway (here: the schema, run by graphql-jit).
    ...(config.executor === "graphql-jit" ? { gateway: jitGateway(schema) } : { schema }),
    introspection: config.introspection,
    // Expected refusals need no stack, and unexpected errors are masked (format-error.ts).
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    // Whoever owns the process stops the server (main.ts on SIGTERM). Apollo's own handler would
    // re-raise the signal once Apollo alone has stopped, killing the process mid-drain (exit 143).
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: armor.validationRules,
    // graphql-armor's typings come from Apollo's CJS build; the plugins are the same objects.
    plugins: [
      ...(armor.plugins as unknown as ApolloServerPlugin<TContext>[]),
      keyscopeRequestHooks<TContext>(config, options.clock),
      ...cacheControl<TContext>(schema),
      ...(options.plugins ?? []),
    ],
    formatError: createErrorFormatter(logger, { hideSuggestions: config.production }),
    logger: logger.child({ component: "apollo" }) as never,
    nodeEnv: config.production ? "production" : "development",
  });
}

/**
 * Apollo's cache-control plugin runs a hook around every field resolver of every request (about a
 * fifth of the server's CPU on a 100-field response) to compute cache hints. A schema without
 * `@cacheControl` has none to compute, so it is switched off there; a schema that declares the
 * directive keeps it. (Resolvers calling `info.cacheControl.setCacheHint` need the directive declared.)
 */
function cacheControl<TContext extends BaseContext>(schema: GraphQLSchema): ApolloServerPlugin<TContext>[] {
  return schema.getDirective("cacheControl") ? [] : [ApolloServerPluginCacheControlDisabled() as ApolloServerPlugin<TContext>];
}

/**
 * The cost limit and the outage status as one plugin with one listener: Apollo calls every
 * plugin's requestDidStart and every listener's hooks on each request, so two plugins cost twice
 * the calls and promises of one. (Their hooks differ: didResolveOperation, willSendResponse.)
 */
function keyscopeRequestHooks<TContext extends BaseContext>(config: KeyscopeConfig, clock: Clock | undefined): ApolloServerPlugin<TContext> {
  const listener: GraphQLRequestListener<TContext> = {
    ...costLimitListener<TContext>({ maxCost: config.limits.maxCost, ...managementCost(clock) }),
    ...outageStatusListener<TContext>(),
  };
  return { requestDidStart: async () => listener };
}
