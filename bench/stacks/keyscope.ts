// Keyscope as shipped: createKeyscopeServer with the product schema guarded by @requiresKey,
// rate limiting and usage counting on. Bare, its own stack without Keyscope (bare-apollo.ts).
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { createKeyscopeServer, type KeyscopeServer, type KeyscopeServerOptions } from "../../src/keyscope-server.ts";
import { PARTNER_CLIENT_TYPE, productResolvers, productTypeDefs, STOCK_SCOPE } from "../products.ts";
import { HOST, type RunningStack, type StackOptions } from "./running-stack.ts";

export const keyscopeTypeDefs = productTypeDefs({
  cost: `@requiresKey(clientTypes: ["${PARTNER_CLIENT_TYPE}"])`,
  stock: `@requiresKey(scopes: ["${STOCK_SCOPE}"])`,
});

/** A limit no bench round reaches (the default 1000/min would refuse the load): the limiter still runs. */
const UNREACHED_RATE_LIMIT = { limit: 1_000_000, windowSeconds: 10 };

export async function startKeyscope(options: StackOptions, serverOptions: KeyscopeServerOptions = { dataDir: "memory://" }): Promise<RunningStack & { app: KeyscopeServer }> {
  const app = await createKeyscopeServer({
    // Request logs off (as the rest of the bench's stacks): at info, one JSON line per request.
    logLevel: "warn",
    ...serverOptions,
    ...options.keyscope,
    typeDefs: keyscopeTypeDefs,
    resolvers: productResolvers,
  });
  const { url } = await app.listen({ port: 0, host: HOST });
  const user = await app.users.createUser(CLI_PRINCIPAL, { email: "bench@example.com", role: "MEMBER", clientTypes: [PARTNER_CLIENT_TYPE, "mobile"] });
  const create = (name: string, clientType: string, scopes: string[]) =>
    app.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name, clientType, scopes, rateLimit: UNREACHED_RATE_LIMIT });
  const good = await create("bench good", PARTNER_CLIENT_TYPE, [STOCK_SCOPE]);
  const denied = await create("bench denied", "mobile", []);
  return { app, ready: { url, keys: { good: good.secret, denied: denied.secret } }, close: () => app.close() };
}
