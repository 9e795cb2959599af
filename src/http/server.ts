import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { HeaderMap, type ApolloServer, type BaseContext } from "@apollo/server";
import type { Logger } from "../logger.ts";
import type { KeyRequest } from "../auth/context.ts";
import { clientAddress } from "./client-address.ts";

export interface HttpServerOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  /** Builds the GraphQL context; may throw a GraphQLError (401, 429, 503) for the whole request. */
  context: (request: KeyRequest) => Promise<TContext>;
  /**
   * Called once the response is built (context undefined if it was never made): add headers
   * (names in lower case, not already set by Apollo), count.
   */
  finish?: (context: TContext | undefined, addHeader: (name: string, value: string) => void) => void;
  /** Proxies whose X-Forwarded-For entries are trusted. @default 0 */
  trustProxyHops?: number;
  /** Throws when the database cannot answer. */
  checkReady: () => Promise<void>;
  maxBodyBytes: number;
  logger: Logger;
  /** @default "/graphql" */
  graphqlPath?: string;
  /** Answered before GraphQL: `path` itself and, with `prefix`, every path below it. */
  routes?: readonly HttpRoute[];
}

export interface HttpRoute {
  path: string;
  prefix?: boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void;
}

/**
 * A plain node:http server in front of Apollo: health endpoints, a body-size limit, and the
 * raw request handed to the context (the key reader needs repeated headers and the body).
 */
export function createHttpServer<TContext extends BaseContext>(options: HttpServerOptions<TContext>): Server {
  const graphqlPath = options.graphqlPath ?? "/graphql";
  return createServer((req, res) => {
    const started = performance.now();
    const path = pathOf(req.url);
    route(options, graphqlPath, path, req, res)
      .catch((error: unknown) => {
        options.logger.error({ err: error, path }, "request failed");
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
        else res.end();
      })
      .finally(() => {
        // Only the path is logged: a query string may carry a key.
        options.logger.info({ method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) }, "request");
      });
  });
}

async function route<TContext extends BaseContext>(
  options: HttpServerOptions<TContext>,
  graphqlPath: string,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
  if (path === "/readyz") return sendReadiness(options, res);
  const extra = options.routes?.find((r) => path === r.path || (r.prefix === true && path.startsWith(`${r.path}/`)));
  if (extra) return extra.handle(req, res);
  if (path !== graphqlPath) return sendJson(res, 404, { error: `Not found. GraphQL is served at ${graphqlPath}.` });
  const body = await readBody(req, options.maxBodyBytes);
  if (body.kind === "too-large") {
    req.resume();
    return sendGraphQLError(res, 413, `The request body is larger than ${options.maxBodyBytes} bytes.`, "PAYLOAD_TOO_LARGE");
  }
  const parsed = parseBody(req, body.text);
  if (parsed.kind === "invalid") return sendGraphQLError(res, 400, "The request body is not valid JSON.", "BAD_REQUEST");
  await answerGraphQL(options, req, res, parsed.value);
}

async function answerGraphQL<TContext extends BaseContext>(
  options: HttpServerOptions<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
): Promise<void> {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const search = q === -1 ? "" : url.slice(q);
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const address = clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], options.trustProxyHops ?? 0);
  let context: TContext | undefined;
  const response = await options.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: (req.method ?? "GET").toUpperCase(), headers, search, body },
    context: async () => (context = await options.context({ rawHeaders: req.rawHeaders, search, body, clientAddress: address, connection: req.socket })),
  });
  // One writeHead with a flat list: far cheaper than a setHeader call per header.
  const head: string[] = [];
  for (const [name, value] of response.headers) head.push(name, value);
  options.finish?.(context, (name, value) => head.push(name, value));
  if (response.body.kind === "complete") {
    const text = response.body.string;
    head.push("content-length", String(Buffer.byteLength(text)));
    res.writeHead(response.status ?? 200, head);
    res.end(text);
    return;
  }
  res.writeHead(response.status ?? 200, head);
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

async function sendReadiness<TContext extends BaseContext>(options: HttpServerOptions<TContext>, res: ServerResponse) {
  try {
    await options.checkReady();
    sendJson(res, 200, { status: "ready" });
  } catch {
    sendJson(res, 503, { status: "unavailable", reason: "The database is not reachable." });
  }
}

type Body = { kind: "ok"; text: string } | { kind: "too-large" };

function readBody(req: IncomingMessage, maxBytes: number): Promise<Body> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve({ kind: "too-large" });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        resolve({ kind: "too-large" });
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!done) resolve({ kind: "ok", text: Buffer.concat(chunks).toString("utf8") });
    });
    req.on("error", reject);
  });
}

function parseBody(req: IncomingMessage, text: string): { kind: "ok"; value: unknown } | { kind: "invalid" } {
  const type = (req.headers["content-type"] ?? "").toLowerCase();
  if (text === "" || !type.includes("json")) return { kind: "ok", value: text === "" ? undefined : text };
  try {
    return { kind: "ok", value: JSON.parse(text) };
  } catch {
    return { kind: "invalid" };
  }
}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.indexOf("?");
  return q === -1 ? raw : raw.slice(0, q);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(value));
}

function sendGraphQLError(res: ServerResponse, status: number, message: string, code: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}
