import type { IncomingHttpHeaders } from "node:http";
import Negotiator from "negotiator";
import type { RequestRefusal } from "../errors.ts";

// Apollo's media types for a single result, in its order of preference (ApolloServer.ts).
const APPLICATION_JSON = "application/json; charset=utf-8";
const SINGLE_RESULT_TYPES = [APPLICATION_JSON, "application/graphql-response+json; charset=utf-8", "application/json; callbackSpec=1.0; charset=utf-8"];

/**
 * A request refused before GraphQL (a presented key that fails: 401, 429, 503), answered at the
 * door byte for byte as Apollo answers a context that throws the refusal's GraphQLError (errors.ts
 * `refusalError`; the test "door refusals" compares the two): status, headers, the body with its
 * newline, the media type negotiated from Accept as Apollo does. Apollo's way costs a forged
 * key's request some 60 µs more, which a flood of them takes from the valid keys.
 */
export function refusalAnswer(refusal: RequestRefusal, accept: IncomingHttpHeaders["accept"]): { status: number; head: string[]; body: string } {
  const head: string[] = [];
  for (const [name, value] of refusal.headers) head.push(name, value);
  head.push("content-type", contentType(accept));
  let body = BODIES.get(refusal);
  if (body === undefined) BODIES.set(refusal, (body = JSON.stringify({ errors: [{ message: refusal.message, extensions: refusal.extensions }] }) + "\n"));
  return { status: refusal.status, head, body };
}

// Refusals are shared values (errors.ts): a 401 or a throttled 429 is serialised once.
const BODIES = new WeakMap<RequestRefusal, string>();

function contentType(accept: string | undefined): string {
  if (!accept) return APPLICATION_JSON;
  return new Negotiator({ headers: { accept } }).mediaType(SINGLE_RESULT_TYPES) ?? APPLICATION_JSON;
}
