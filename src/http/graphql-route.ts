import type { IncomingMessage, ServerResponse } from "node:http";
import { HeaderMap, type ApolloServer, type BaseContext } from "@apollo/server";
import type { KeyRequest } from "../auth/context.ts";
import type { KeySources } from "../config.ts";
import { ErrorCode } from "../errors.ts";
import { clientAddress, NO_PROXY_TRUST, type ProxyTrust } from "./client-address.ts";
import { readKeyAtDoor, type VisibleRequest } from "./read-key.ts";
import { parseBody, readBody } from "./request-body.ts";
import { GRAPHQL_HEADERS, sendGraphQLError } from "./respond.ts";
import type { Route } from "./server.ts";

export interface GraphQLRouteOptions<TContext extends BaseContext> {
  /** @default "/graphql" */
  path?: string;
  /** Started. */
  apollo: ApolloServer<TContext>;
  /** Builds the GraphQL context; may throw a GraphQLError (401, 429, 503) for the whole request. */
  context: (request: KeyRequest) => Promise<TContext>;
  /**
   * Called once the response is built (context undefined if it was never made): add headers
   * (names in lower case, not already set by Apollo), count.
   */
  finish?: (context: TContext | undefined, addHeader: (name: string, value: string) => void) => void;
  keySources: KeySources;
  maxBodyBytes: number;
  /** Which peers' X-Forwarded-For counts (client-address.ts). @default none: the socket's address */
  proxyTrust?: ProxyTrust;
  /**
   * Hand Apollo (and so every plugin) and the context the request without the key: no key
   * header, key cookie, key query parameter or `extensions.apiKey`. @default true
   */
  hideCredentials?: boolean;
}

/**
 * The GraphQL endpoint: the only HTTP code that knows Apollo. It reads the body (with a size
 * limit), reads the key at the door, and hands Apollo the request and the context.
 */
export function createGraphQLRoute<TContext extends BaseContext>(options: GraphQLRouteOptions<TContext>): Route {
  const { maxBodyBytes } = options;
  return {
    path: options.path ?? "/graphql",
    async handle(req, res) {
      const body = await readBody(req, maxBodyBytes);
      if (body.kind === "too-large") {
        // Reading the rest would cost as much as accepting it: close the connection instead.
        res.setHeader("connection", "close");
        res.once("finish", () => req.socket.destroy());
        return sendGraphQLError(res, 413, `The request body is larger than ${maxBodyBytes} bytes.`, ErrorCode.PAYLOAD_TOO_LARGE);
      }
      const parsed = parseBody(req, body.text);
      if (parsed.kind === "invalid") return sendGraphQLError(res, 400, "The request body is not valid JSON.", ErrorCode.BAD_REQUEST);
      await answer(options, req, res, parsed.value);
    },
  };
}

async function answer<TContext extends BaseContext>(options: GraphQLRouteOptions<TContext>, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const search = q === -1 ? "" : url.slice(q);
  const door = readKeyAtDoor({ rawHeaders: req.rawHeaders, headers: req.headers, search, body }, options.keySources);
  const { presented } = door;
  const hide = options.hideCredentials ?? true;
  const visible: VisibleRequest = hide ? door.withoutKey : { headers: req.headers, search, body };
  const address = clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], options.proxyTrust ?? NO_PROXY_TRUST);
  let context: TContext | undefined;
  const response = await options.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: (req.method ?? "GET").toUpperCase(), headers: headerMap(visible.headers), search: visible.search, body: visible.body },
    context: async () =>
      (context = await options.context({
        // The key was read: nobody after this point needs the raw headers that carried it. Built
        // only if a context function asks (Keyscope's own reads `presented`).
        get rawHeaders() {
          return hide && presented.kind !== "none" ? flatten(visible.headers) : req.rawHeaders;
        },
        search: visible.search, body: visible.body, presented, clientAddress: address, connection: req.socket,
      })),
  });
  // Ours win over anything Apollo or a plugin set (a cache-control from a cache hint included).
  for (const [name, value] of GRAPHQL_HEADERS) response.headers.set(name, value);
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

/** Headers as a raw name/value list, for a KeyRequest built from the request without its key. */
function flatten(headers: IncomingMessage["headers"]): string[] {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (typeof value === "string") raw.push(name, value);
    else for (const one of value) raw.push(name, one);
  }
  return raw;
}

function headerMap(headers: IncomingMessage["headers"]): HeaderMap {
  const map = new HeaderMap();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return map;
}
