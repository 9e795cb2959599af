// Peer: graphql-yoga 5 + @envelop/generic-auth 11, mode "protect-granular": @requiresScopes on
// the guarded fields, checked in the validation phase; the client type is an extra scope.
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { REQUIRES_SCOPES_DIRECTIVE_SDL, useGenericAuth } from "@envelop/generic-auth";
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { GraphQLSchema } from "graphql";
import { createPeerKeyStore, type Principal } from "../peer-keys.ts";
import { PARTNER_CLIENT_TYPE, productResolvers, productTypeDefs, STOCK_SCOPE } from "../products.ts";
import { HOST, type RunningStack, type StackOptions } from "./running-stack.ts";

// graphql-yoga's typings add an `http` field to graphql's GraphQLErrorExtensions that clashes
// with Apollo Server's (headers a Record there, a Map here) and breaks Keyscope's compilation:
// yoga is loaded untyped, with the little of its API used here typed by hand.
const YOGA = "graphql-yoga";
type CreateYoga = (options: { schema: GraphQLSchema; plugins: unknown[]; logging: boolean; graphiql: boolean }) => RequestListener;

const CLIENT_TYPE_SCOPE = (clientType: string) => `client-type:${clientType}`;

export async function startYogaGenericAuth(options: StackOptions): Promise<RunningStack> {
  const store = createPeerKeyStore();
  const typeDefs = [
    REQUIRES_SCOPES_DIRECTIVE_SDL,
    productTypeDefs({
      cost: `@requiresScopes(scopes: [["${CLIENT_TYPE_SCOPE(PARTNER_CLIENT_TYPE)}"]])`,
      stock: `@requiresScopes(scopes: [["${STOCK_SCOPE}"]])`,
    }),
  ];
  const auth = useGenericAuth<Principal, { request: Request }>({
    mode: "protect-granular",
    resolveUserFn: ({ request }) => store.lookUp(request.headers.get("x-api-key")) ?? null,
    extractScopes: (principal) => [...principal.scopes, CLIENT_TYPE_SCOPE(principal.clientType)],
  });
  const { createYoga } = (await import(YOGA)) as { createYoga: CreateYoga };
  const yoga = createYoga({
    schema: makeExecutableSchema({ typeDefs, resolvers: productResolvers }),
    plugins: options.auth ? [auth] : [],
    logging: false,
    graphiql: false,
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ready: { url: `http://${HOST}:${port}/graphql`, ...(options.auth ? { keys: store.keys } : {}) },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
