import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { ApolloServer, ApolloServerPlugin } from "@apollo/server";
import type { IResolvers, TypeSource } from "@graphql-tools/utils";
import type { GraphQLSchema } from "graphql";
import type { Redis } from "ioredis";
import type { AuditService } from "./audit/audit-service.ts";
import { countRefusal, finishRequest, type Auth, type KeyRequest, type KeyscopeContext } from "./auth/context.ts";
import type { KeyCache } from "./auth/key-cache.ts";
import type { KeyVerifier } from "./auth/verify-key.ts";
import type { Clock } from "./clock.ts";
import { resolveConfig, type KeyscopeConfig, type KeyscopeConfigInput } from "./config.ts";
import { createCore, type Core } from "./core.ts";
import type { Database } from "./db/client.ts";
import { openMigratedDatabase } from "./db/open-migrated.ts";
import { openOperatorSocket, type OperatorSocket } from "./cli/operator-socket.ts";
import { createApollo } from "./graphql/apollo.ts";
import { buildKeyscopeSchema } from "./graphql/build-schema.ts";
import { createManagementResolvers } from "./graphql/management-resolvers.ts";
import { proxyTrust } from "./http/client-address.ts";
import { createConsoleRoute } from "./http/console-route.ts";
import { createGraphQLRoute } from "./http/graphql-route.ts";
import { healthRoutes } from "./http/health-routes.ts";
import { createMetricsServer, metricsRoute } from "./http/metrics-route.ts";
import { createHttpServer, type Route } from "./http/server.ts";
import type { KeyService } from "./keys/key-service.ts";
import type { UsageRecorder } from "./limits/usage-recorder.ts";
import { createLogger, type Logger } from "./logger.ts";
import { noopMetrics, type Metrics } from "./metrics.ts";
import { createPrometheusMetrics } from "./prometheus-metrics.ts";
import type { UserService } from "./users/user-service.ts";

export interface KeyscopeServerOptions extends KeyscopeConfigInput {
  /** Your SDL, using @requiresKey; merged with the management schema. */
  typeDefs?: TypeSource;
  resolvers?: IResolvers | IResolvers[];
  /**
   * Adds your own fields to the context; `auth` is Keyscope's. With `hideCredentials` (the
   * default) `request` no longer holds the key: its header, cookie, query parameter and
   * `extensions.apiKey` are gone.
   */
  context?: (args: { request: KeyRequest; auth: Auth }) => object | Promise<object>;
  /**
   * Your Apollo Server plugins, after Keyscope's. With `hideCredentials` (the default) they see
   * the request without the key (`request.http.headers`, `request.http.search`, `extensions`).
   * @default []
   */
  plugins?: readonly ApolloServerPlugin<KeyscopeContext>[];
  /** @default a pino JSON logger at `logLevel` */
  logger?: Logger;
  /** @default the system clock */
  clock?: Clock;
  /** @default Prometheus metrics of this server alone (prometheus-metrics.ts); none with `metricsEnabled: false` */
  metrics?: Metrics;
}

export interface KeyscopeServer {
  /** Also starts the metrics port when `metricsPort` is set (`metricsUrl`). */
  listen(options?: { port?: number; host?: string }): Promise<{ url: string; port: number; metricsUrl?: string }>;
  /** Stops accepting requests, finishes those in flight, closes the database. */
  close(): Promise<void>;
  /** The services and the request path's auth, for those who want them. */
  readonly core: Core;
  readonly config: KeyscopeConfig;
  readonly schema: GraphQLSchema;
  readonly apollo: ApolloServer<KeyscopeContext>;
  readonly httpServer: Server;
  readonly database: Database;
  readonly keys: KeyService;
  readonly users: UserService;
  readonly audit: AuditService;
  readonly cache: KeyCache;
  readonly verifier: KeyVerifier;
  readonly usage: UsageRecorder;
  readonly redis: Redis | undefined;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The operator CLI's socket in the embedded data directory (none on PostgreSQL or in memory). */
  readonly operatorSocket: OperatorSocket | undefined;
}

/**
 * Builds the schema with your typeDefs and the management schema, opens (and migrates) the
 * database, and returns a server ready to listen. The embedded data directory is locked meanwhile.
 */
export async function createKeyscopeServer(options: KeyscopeServerOptions = {}): Promise<KeyscopeServer> {
  const config = resolveConfig(options);
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = !config.metricsEnabled ? noopMetrics : (options.metrics ?? createPrometheusMetrics());
  let core: Core | undefined;
  // Built first: a bad @requiresKey stops start-up before the database is opened or migrated.
  const schema = buildKeyscopeSchema({
    typeDefs: options.typeDefs,
    resolvers: options.resolvers,
    managementResolvers: createManagementResolvers(() => core!),
    onRefusal: ({ auth, reason }) => {
      countRefusal(auth);
      metrics.fieldRefused(reason);
    },
  });
  const database = await openMigratedDatabase(config, "server");
  let operatorSocket: OperatorSocket | undefined;
  try {
    core = await createCore({ database, config, clock: options.clock, logger, metrics });
    // Beside the embedded database on disk: the CLI cannot open it while this server holds it.
    if (!config.databaseUrl && config.dataDir !== "memory://") operatorSocket = await openOperatorSocket(core, config.dataDir);
    return await serve(core, schema, options, operatorSocket);
  } catch (error) {
    await operatorSocket?.close().catch(() => {});
    await core?.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}

/** The doors on the core: Apollo behind the GraphQL route, health routes, the console, metrics, one HTTP server. */
async function serve(core: Core, schema: GraphQLSchema, options: KeyscopeServerOptions, operatorSocket: OperatorSocket | undefined): Promise<KeyscopeServer> {
  const { config, logger, database, usage, metrics } = core;
  const extend = options.context;
  if (config.trustProxyHops > 0 && config.trustedProxies.length === 0) {
    logger.warn("KEYSCOPE_TRUST_PROXY_HOPS without KEYSCOPE_TRUSTED_PROXIES believes X-Forwarded-For from any peer: a client that reaches Keyscope directly chooses its own address");
  }
  const apollo = createApollo<KeyscopeContext>(config, logger, schema, { plugins: options.plugins, clock: core.clock });
  await apollo.start();
  // `admitted`: the auth made at the door (graphql-route.ts), else made here.
  const context = async (request: KeyRequest, admitted: Auth | undefined): Promise<KeyscopeContext> => {
    const auth = admitted ?? (await core.authenticate(request));
    if (!extend) return { auth };
    // The request as the route handed it has lost its key already; the key as read goes too.
    // A plain object, named one by one: the route's request is a class whose `rawHeaders` is a getter.
    const { rawHeaders, search, body, clientAddress, connection, presented } = request;
    const visible: KeyRequest = config.hideCredentials ? { rawHeaders, search, body, clientAddress, connection } : { rawHeaders, search, body, clientAddress, connection, presented };
    return { ...(await extend({ request: visible, auth })), auth };
  };
  // /metrics on the public port, unless it has a port of its own.
  const exposition = metrics.exposition;
  const metricsServer = exposition && config.metricsPort !== undefined ? createMetricsServer(exposition) : undefined;
  const routes: Route[] = [
    ...healthRoutes(database.ping),
    ...(config.console ? [createConsoleRoute()] : []),
    ...(exposition && !metricsServer ? [metricsRoute(exposition)] : []),
  ];
  const httpServer = createHttpServer({
    routes,
    graphql: createGraphQLRoute({
      apollo,
      context,
      // A refused key is answered before Apollo, as Apollo would answer it: a flood of forged keys
      // costs the valid ones less.
      admit: core.admit,
      finish: (ctx, addHeader) => finishRequest(ctx?.auth, addHeader, usage),
      keySources: config.keySources,
      maxBodyBytes: config.limits.maxBodyBytes,
      proxyTrust: proxyTrust(config.trustProxyHops, config.trustedProxies),
      hideCredentials: config.hideCredentials,
    }),
    logger,
    limits: config.http,
    metrics,
  });

  let closing: Promise<void> | undefined;
  return {
    core, config, schema, apollo, httpServer, database, logger, metrics, operatorSocket,
    keys: core.keys, users: core.users, audit: core.audit, cache: core.cache, verifier: core.verifier, usage, redis: core.redis,
    async listen({ port = config.port, host = config.host } = {}) {
      const { url, port: bound } = await listenOn(httpServer, port, host, "/graphql");
      if (!metricsServer) return { url, port: bound };
      const metricsUrl = (await listenOn(metricsServer, config.metricsPort!, host, "/metrics")).url;
      return { url, port: bound, metricsUrl };
    },
    close: () =>
      (closing ??= (async () => {
        await operatorSocket?.close(); // commands in flight finish first
        if (metricsServer) await drain(metricsServer);
        await drain(httpServer);
        await apollo.stop();
        await core.close(); // every count of the drained requests is written
        await database.close();
      })()),
  };
}

/** Listens and names what it serves at `path`. */
function listenOn(server: Server, port: number, host: string | undefined, path: string): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const shownHost = host && host !== "0.0.0.0" && host !== "::" ? host : "localhost";
      resolve({ url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${address.port}${path}`, port: address.port });
    });
  });
}

/** Stops accepting, lets requests in flight finish (10 s at most), then resolves. */
function drain(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
