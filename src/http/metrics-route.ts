import { createServer, type Server } from "node:http";
import type { Metrics } from "../metrics.ts";
import { sendJson } from "./respond.ts";
import type { Route } from "./server.ts";

export type Exposition = NonNullable<Metrics["exposition"]>;

/** `GET /metrics`: the Prometheus text format. */
export function metricsRoute(exposition: Exposition): Route {
  return {
    path: "/metrics",
    async handle(req, res) {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("allow", "GET, HEAD");
        return sendJson(res, 405, { error: "Use GET for /metrics." });
      }
      const { contentType, body } = await exposition();
      res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    },
  };
}

/**
 * /metrics alone on a port of its own (KEYSCOPE_METRICS_PORT), so that the public port need not
 * show it. Nothing else is answered there.
 */
export function createMetricsServer(exposition: Exposition): Server {
  const route = metricsRoute(exposition);
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== route.path) return sendJson(res, 404, { error: "Not found. Metrics are served at /metrics." });
    Promise.resolve(route.handle(req, res, path)).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: "The metrics could not be collected." });
      else res.end();
    });
  });
  // A scrape is one small GET: nobody needs long to send one.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return server;
}
