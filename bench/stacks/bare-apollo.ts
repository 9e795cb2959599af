// Keyscope's own stack without Keyscope: the same Apollo Server on the same node:http transport
// (`executeHTTPGraphQLRequest`), the product schema without guards, no key read.
// startStandaloneServer would put Express, cors and body-parser in front of Apollo, a cost
// Keyscope does not pay; that one is the Apollo + shield peer's (apollo-shield.ts).
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, HeaderMap } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { productResolvers, productTypeDefs } from "../products.ts";
import { HOST, type RunningStack } from "./running-stack.ts";

export async function startBareApollo(): Promise<RunningStack> {
  const apollo = new ApolloServer({
    schema: makeExecutableSchema({ typeDefs: productTypeDefs(), resolvers: productResolvers }),
    // As Keyscope's defaults (config.production false): the same Apollo code paths.
    nodeEnv: "development",
    introspection: true,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    // As Keyscope on a schema without @cacheControl (src/graphql/apollo.ts): no cache-control plugin.
    plugins: [ApolloServerPluginCacheControlDisabled()],
  });
  await apollo.start();
  const server = createServer((req, res) => {
    readJson(req)
      .then(async (body) => {
        const headers = new HeaderMap();
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        const response = await apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method ?? "POST", headers, search: "", body },
          context: async () => ({}),
        });
        // Written as Keyscope writes it (src/http/graphql-route.ts): one writeHead with a flat
        // list and the length, so that the response costs node:http the same in both.
        const head: string[] = [];
        for (const [name, value] of response.headers) head.push(name, value);
        if (response.body.kind === "complete") {
          const text = response.body.string;
          head.push("content-length", String(Buffer.byteLength(text)));
          res.writeHead(response.status ?? 200, head);
          return void res.end(text);
        }
        res.writeHead(response.status ?? 200, head);
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      })
      .catch(() => {
        res.statusCode = 400;
        res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ready: { url: `http://${HOST}:${port}/graphql` },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await apollo.stop();
    },
  };
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (error) {
        reject(error);
      }
    });
    req.on("error", reject);
  });
}
