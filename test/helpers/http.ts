import { Agent, request as httpRequest, type IncomingMessage } from "node:http";

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed JSON body (undefined when it is not JSON). */
  json: any;
}

export interface RequestOptions {
  method?: string;
  /** Name/value pairs, sent as given: repeats stay repeats. */
  headers?: [string, string][];
  body?: string;
  /** The client's own address, e.g. one of 127/8 on Linux: the server sees the request come from it. */
  localAddress?: string;
}

/** A real HTTP request with raw headers (fetch would merge repeated ones). */
export function send(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  // With raw headers node adds no Host header, and servers refuse HTTP/1.1 without one.
  const flat = [["host", new URL(url).host], ...(options.headers ?? [])].flat();
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "GET", headers: flat, localAddress: options.localAddress }, (res) => {
      readResponse(res).then(resolve, reject);
    });
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** Reads a whole response: status, headers, text, and the JSON body when it is JSON. */
export function readResponse(res: IncomingMessage): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("error", reject);
    res.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
    });
  });
}

/** POSTs a GraphQL operation as JSON. */
export function postGraphQL(
  url: string,
  operation: { query: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> },
  headers: [string, string][] = [],
  options: Pick<RequestOptions, "localAddress"> = {},
): Promise<HttpResponse> {
  return send(url, {
    method: "POST",
    headers: [["content-type", "application/json"], ...headers],
    body: JSON.stringify(operation),
    ...options,
  });
}

/** One keep-alive connection: every request goes over the same socket while it stays open. */
export interface OneConnection {
  post(query: string, headers?: [string, string][]): Promise<HttpResponse & { reusedSocket: boolean }>;
  close(): void;
}

export function oneConnection(url: string): OneConnection {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    post(query, headers = []) {
      const flat = [["host", new URL(url).host], ["content-type", "application/json"], ...headers].flat();
      return new Promise((resolve, reject) => {
        const req = httpRequest(url, { method: "POST", headers: flat, agent }, (res) => {
          readResponse(res).then((response) => resolve({ ...response, reusedSocket: req.reusedSocket }), reject);
        });
        req.on("error", reject);
        req.end(JSON.stringify({ query }));
      });
    },
    close: () => agent.destroy(),
  };
}
