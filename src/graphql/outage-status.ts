import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { classify, KEY_STORE_RETRY_AFTER_SECONDS, REASONS } from "../errors.ts";

/**
 * A response that has no data because the key store could not be reached is answered as the
 * request path answers it (SPEC §4): 503 with Retry-After. With partial data it stays 200, the
 * field errors saying SERVICE_UNAVAILABLE, as GraphQL over HTTP wants for partial results.
 * Apollo would otherwise answer 200 (errors not thrown as GraphQLErrors carry no `http`).
 */
export function outageStatusPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  // Stateless: one listener for every request.
  const listener = outageStatusListener<TContext>();
  return { requestDidStart: async () => listener };
}

/** The plugin's one listener, for a server that joins it with its other per-request hooks (apollo.ts). */
export function outageStatusListener<TContext extends BaseContext>(): Pick<GraphQLRequestListener<TContext>, "willSendResponse"> {
  return {
    async willSendResponse({ response, errors }) {
      if (!errors || response.body.kind !== "single" || response.body.singleResult.data != null) return;
      if (!errors.some((error) => classify(unwrapResolverError(error))?.reason === "KEY_STORE_UNAVAILABLE")) return;
      response.http.status = REASONS.KEY_STORE_UNAVAILABLE.status;
      response.http.headers.set("retry-after", String(KEY_STORE_RETRY_AFTER_SECONDS));
    },
  };
}
