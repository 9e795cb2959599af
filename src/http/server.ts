import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { defaultConfig, type HttpLimits } from "../config.ts";
import type { Logger } from "../logger.ts";
import { noopMetrics, type Metrics } from "../metrics.ts";
import { SECURITY_HEADERS, sendJson, setHeaders } from "./respond.ts";

/** One path the server answers, and its handler. */
export interface Route {
  /** The exact path; with `prefix`, also every path below it (`/console/keys/…`). */
  path: string;
  /** @default false */
  prefix?: boolean;
  /** `path` is the request's path, without the query string. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> | void;
}

export interface HttpServerOptions {
  /** Health endpoints, the console, metrics…: whatever is not GraphQL. */
  routes: readonly Route[];
  /** The GraphQL endpoint (graphql-route.ts), also named in the answer to unknown paths. */
  graphql: Route;
  logger: Logger;
  /** Timeouts and the connection cap. @default defaultConfig.http */
  limits?: HttpLimits;
  /** Told of each answered request's status and time. @default noopMetrics */
  metrics?: Pick<Metrics, "httpRequest">;
}

/**
 * A plain node:http server: one route table, a request log line per request, and a last-resort
 * 500 for a handler that throws. What a route does is its own business. Slow and idle clients
 * are cut off (`limits`): headers not complete within `headersTimeoutMs` or the request within
 * `requestTimeoutMs` get 408 and a closed connection; beyond `maxConnections`, node closes new
 * connections at once.
 */
export function createHttpServer({ routes, graphql, logger, limits = defaultConfig.http, metrics = noopMetrics }: HttpServerOptions): Server {
  const table = [graphql, ...routes];
  const notFound: Route = {
    path: "",
    handle: (_req, res) => sendJson(res, 404, { error: `Not found. GraphQL is served at ${graphql.path}.` }),
  };
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (req, res) => {
      const started = performance.now();
      const path = pathOf(req.url);
      const route = table.find((r) => path === r.path || (r.prefix === true && path.startsWith(`${r.path}/`))) ?? notFound;
      // The GraphQL route writes its head in one call and adds these itself (graphql-route.ts).
      if (route !== graphql) setHeaders(res, SECURITY_HEADERS);
      run(route, req, res, path)
        .catch((error: unknown) => {
          logger.error({ err: error, path }, "request failed");
          if (!res.headersSent) {
            setHeaders(res, SECURITY_HEADERS);
            sendJson(res, 500, { errors: [{ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
          } else res.end();
        })
        .finally(() => {
          const ms = performance.now() - started;
          metrics.httpRequest(res.statusCode, ms / 1000);
          // Only the path is logged: a query string may carry a key.
          logger.info({ method: req.method, path, status: res.statusCode, ms: Math.round(ms) }, "request");
        });
    },
  );
  server.maxConnections = limits.maxConnections;
  return server;
}

/** The handler's work as a promise, a synchronous throw included. */
async function run(route: Route, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  await route.handle(req, res, path);
}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.indexOf("?");
  return q === -1 ? raw : raw.slice(0, q);
}
