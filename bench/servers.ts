// Child process of bench/run.ts: starts one server on 127.0.0.1 (a free port) and reports
// `{ url, secret? }` to the parent over IPC. `argv[2]` is "keyscope" or "apollo". It answers the
// message "cpu" with its `process.cpuUsage()`, and exits when the parent disconnects (normal
// end, crash or kill of the parent alike).
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, HeaderMap } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { CLI_PRINCIPAL } from "../src/auth/principal.ts";
import { exampleResolvers, exampleTypeDefs } from "../src/example/catalogue.ts";
import { requiresKeyTypeDefs } from "../src/graphql/requires-key.ts";
import { createKeyscopeServer } from "../src/keyscope-server.ts";

/** What a child sends to the parent once it listens. */
export interface ServerReady {
  url: string;
  /** Keyscope only: a valid key for the X-API-Key header. */
  secret?: string;
}

const HOST = "127.0.0.1";

async function startKeyscope(): Promise<{ ready: ServerReady; close: () => Promise<void> }> {
  const app = await createKeyscopeServer({
    dataDir: "memory://",
    logLevel: "warn",
    typeDefs: exampleTypeDefs,
    resolvers: exampleResolvers,
  });
  const { url } = await app.listen({ port: 0, host: HOST });
  const user = await app.users.createUser(CLI_PRINCIPAL, { email: "bench@example.com", role: "MEMBER", clientTypes: ["mobile"] });
  // A limit it never reaches (the default 1000/min would refuse the load): the limiter still runs.
  const rateLimit = { limit: 1_000_000, windowSeconds: 60 };
  const { secret } = await app.keys.createKey(CLI_PRINCIPAL, { userId: user.id, name: "bench", clientType: "mobile", scopes: [], rateLimit });
  return { ready: { url, secret }, close: () => app.close() };
}

/**
 * The same schema without the @requiresKey transform, and no auth. By default it is served the
 * way Keyscope serves its own Apollo: node:http + `executeHTTPGraphQLRequest`. That is the fair
 * baseline: startStandaloneServer puts Express 4, cors and body-parser in front of Apollo, a
 * per-request cost Keyscope does not pay, which would flatter Keyscope and hide what its auth
 * (key reading, verification, armor rules, error formatter, request log) costs.
 * BENCH_BARE=standalone measures startStandaloneServer instead, for reference.
 */
async function startBareApollo(): Promise<{ ready: ServerReady; close: () => Promise<void> }> {
  const apollo = new ApolloServer({
    schema: makeExecutableSchema({ typeDefs: [requiresKeyTypeDefs, exampleTypeDefs], resolvers: exampleResolvers }),
    // As Keyscope's defaults (config.production false): same Apollo code paths.
    nodeEnv: "development",
    introspection: true,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
  });
  if (process.env.BENCH_BARE === "standalone") {
    const { url } = await startStandaloneServer(apollo, { listen: { port: 0, host: HOST } });
    return { ready: { url: new URL("/graphql", url.replace("localhost", HOST)).href }, close: () => apollo.stop() };
  }
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
        for (const [name, value] of response.headers) res.setHeader(name, value);
        res.statusCode = response.status ?? 200;
        if (response.body.kind === "complete") return void res.end(response.body.string);
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

async function main(): Promise<void> {
  if (!process.send) throw new Error("bench/servers.ts runs as a child of bench/run.ts (needs an IPC channel).");
  const kind = process.argv[2];
  if (kind !== "keyscope" && kind !== "apollo") throw new Error(`Unknown server kind: ${kind}`);
  const { ready, close } = kind === "keyscope" ? await startKeyscope() : await startBareApollo();
  process.once("disconnect", () => {
    const force = setTimeout(() => process.exit(0), 2_000);
    force.unref();
    close().finally(() => process.exit(0));
  });
  process.on("message", (message) => {
    if (message === "cpu") process.send!(process.cpuUsage());
  });
  process.send(ready);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench server: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
