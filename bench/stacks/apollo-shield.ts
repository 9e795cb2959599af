// Peer: Apollo Server 5 (startStandaloneServer) + graphql-shield 7 on graphql-middleware 6.
// One rule per guarded field, cached per request ("contextual": they read only the context).
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { applyMiddleware } from "graphql-middleware";
import { rule, shield } from "graphql-shield";
import { createPeerKeyStore, type Principal } from "../peer-keys.ts";
import { PARTNER_CLIENT_TYPE, productResolvers, productTypeDefs, STOCK_SCOPE } from "../products.ts";
import { HOST, type RunningStack, type StackOptions } from "./running-stack.ts";

interface ShieldContext {
  principal: Principal | undefined;
}

export async function startApolloShield(options: StackOptions): Promise<RunningStack> {
  const store = createPeerKeyStore();
  const plain = makeExecutableSchema({ typeDefs: productTypeDefs(), resolvers: productResolvers });
  const isPartner = rule({ cache: "contextual" })((_parent, _args, ctx: ShieldContext) => ctx.principal?.clientType === PARTNER_CLIENT_TYPE);
  const canReadStock = rule({ cache: "contextual" })((_parent, _args, ctx: ShieldContext) => ctx.principal?.scopes.has(STOCK_SCOPE) === true);
  const schema = options.auth ? applyMiddleware(plain, shield({ Product: { cost: isPartner, stock: canReadStock } })) : plain;
  const apollo = new ApolloServer<ShieldContext>({ schema });
  const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  const { url } = await startStandaloneServer(apollo, {
    listen: { port: 0, host: HOST },
    context: options.auth ? async ({ req }) => ({ principal: store.lookUp(header(req.headers["x-api-key"])) }) : async () => ({ principal: undefined }),
  });
  return {
    ready: { url: new URL("/graphql", url.replace("localhost", HOST)).href, ...(options.auth ? { keys: store.keys } : {}) },
    close: () => apollo.stop(),
  };
}
