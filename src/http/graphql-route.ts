import type { IncomingMessage, ServerResponse } from "node:http";
import { HeaderMap, type ApolloServer, type BaseContext } from "@apollo/server";
import type { Admission, Auth, KeyRequest } from "../auth/context.ts";
import type { KeySources } from "../config.ts";
import { ErrorCode } from "../errors.ts";
import { clientAddress, NO_PROXY_TRUST, type ProxyTrust } from "./client-address.ts";
import { readKeyAtDoor, type PresentedKey, type VisibleRequest } from "./read-key.ts";
import { parseBody, readBody } from "./request-body.ts";
import { refusalAnswer } from "./door-refusal.ts";
import { GRAPHQL_HEADERS, sendGraphQLError } from "./respond.ts";
import type { Route } from "./server.ts";

export interface GraphQLRouteOptions<TContext extends BaseContext> {
  /** @default "/graphql" */
  path?: string;
  /** Started. */
  apollo: ApolloServer<TContext>;
  /**
   * Builds the GraphQL context; may throw a GraphQLError (401, 429, 503) for the whole request.
   * `auth`: what `admit` gave at the door, when it ran there.
   */
  context: (request: KeyRequest, auth: Auth | undefined) => Promise<TContext>;
  /**
   * Checks a presented key before Apollo, for requests Apollo would take straight to its context
   * (a JSON POST); a refusal is answered at the door as Apollo would answer it (door-refusal.ts).
   * Leave out to check every key inside Apollo, in `context`.
   */
  admit?: (request: KeyRequest) => Promise<Admission>;
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
 * limit), reads the key at the door, answers a refused key there (`admit`), and hands Apollo the
 * request and the context.
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
  const keyRequest = new DoorRequest(req, hide ? visible.headers : undefined, visible, presented, address);
  let auth: Auth | undefined;
  // What the admission threw (not a refusal: a fault), for Apollo to answer as a context that threw it.
  let fault: { error: unknown } | undefined;
  if (options.admit && presented.kind !== "none" && goesStraightToContext(req.method, visible.headers, body)) {
    try {
      const admission = await options.admit(keyRequest);
      if (!admission.ok) {
        const refusal = refusalAnswer(admission.refusal, req.headers.accept);
        return send(res, refusal.status, withGraphQLHeaders(refusal.head), refusal.body);
      }
      auth = admission.auth;
    } catch (error) {
      fault = { error };
    }
  }
  let context: TContext | undefined;
  const response = await options.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: (req.method ?? "GET").toUpperCase(), headers: headerMap(visible.headers), search: visible.search, body: visible.body },
    context: async () => {
      if (fault) throw fault.error;
      return (context = await options.context(keyRequest, auth));
    },
  });
  // Ours win over anything Apollo or a plugin set (a cache-control from a cache hint included).
  for (const [name, value] of GRAPHQL_HEADERS) response.headers.set(name, value);
  // One writeHead with a flat list: far cheaper than a setHeader call per header.
  const head: string[] = [];
  response.headers.forEach((value, name) => head.push(name, value));
  options.finish?.(context, (name, value) => head.push(name, value));
  if (response.body.kind === "complete") return void send(res, response.status ?? 200, head, response.body.string);
  res.writeHead(response.status ?? 200, head);
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/**
 * The request as the context sees it. A class, not an object literal with a getter (which V8
 * builds slowly on every request): `rawHeaders` is made only if a context function asks
 * (Keyscope's own reads `presented`), and without the key's headers when credentials are hidden.
 */
class DoorRequest implements KeyRequest {
  readonly search: string;
  readonly body: unknown;
  readonly connection: object;

  constructor(
    private readonly req: IncomingMessage,
    /** The headers without the key, when the key is hidden. */
    private readonly hiddenHeaders: IncomingMessage["headers"] | undefined,
    visible: VisibleRequest,
    readonly presented: PresentedKey,
    readonly clientAddress: string | null,
  ) {
    this.search = visible.search;
    this.body = visible.body;
    this.connection = req.socket;
  }

  get rawHeaders(): string[] {
    return this.hiddenHeaders && this.presented.kind !== "none" ? flatten(this.hiddenHeaders) : this.req.rawHeaders;
  }
}

/** One writeHead with a flat list and the length: far cheaper than a setHeader call per header. */
function send(res: ServerResponse, status: number, head: string[], text: string): void {
  head.push("content-length", String(Buffer.byteLength(text)));
  res.writeHead(status, head);
  res.end(text);
}

function withGraphQLHeaders(head: string[]): string[] {
  for (const [name, value] of GRAPHQL_HEADERS) head.push(name, value);
  return head;
}

/**
 * Whether Apollo would build this request's context before anything else could answer it: a POST
 * of `application/json` parsed into an object (neither the landing page, which is for GET, nor
 * CSRF prevention, which passes that content type, comes first). Judged on the headers Apollo
 * is handed (`visible`: a key header could be named content-type). Any other request's context
 * is built inside Apollo, where it always was.
 */
function goesStraightToContext(method: string | undefined, headers: IncomingMessage["headers"], body: unknown): boolean {
  if (method !== "POST" || typeof body !== "object" || body === null) return false;
  const type = headers["content-type"] ?? "";
  const semicolon = type.indexOf(";");
  return (semicolon === -1 ? type : type.slice(0, semicolon)).trim().toLowerCase() === "application/json";
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
  // node's names are lower case already; for…in allocates no entry per header.
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) map.set(name, typeof value === "string" ? value : value.join(", "));
  }
  return map;
}
