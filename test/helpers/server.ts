import { EventEmitter } from "node:events";
import { Writable } from "node:stream";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { createKeyscopeServer, type KeyscopeServer, type KeyscopeServerOptions } from "../../src/keyscope-server.ts";
import { createLogger } from "../../src/logger.ts";
import { exampleResolvers, exampleTypeDefs } from "../../src/example/catalogue.ts";
import { freshDatabase, type DatabaseKind, type TestDatabase } from "./databases.ts";
import { postGraphQL, type HttpResponse } from "./http.ts";

export interface TestServer {
  app: KeyscopeServer;
  url: string;
  database: TestDatabase;
  /** Everything the server logged so far (JSON lines, at trace level). */
  logs(): string;
  /**
   * Resolves once what the server has logged satisfies `done` (checked now and on every line
   * written); rejects with the logs after `ms`. Log lines may land after the response was read.
   */
  untilLogged(done: (logs: string) => boolean, ms?: number): Promise<void>;
  query(query: string, headers?: [string, string][], variables?: Record<string, unknown>): Promise<HttpResponse>;
  /** A user (created if needed) and a key for them, through the real services. */
  issueKey(options?: IssueOptions): Promise<{ secret: string; keyId: string; userId: string }>;
  close(): Promise<void>;
}

export interface IssueOptions {
  email?: string;
  role?: "ADMIN" | "MEMBER";
  clientType?: string;
  scopes?: string[];
  expiresAt?: Date;
}

let counter = 0;

/** A real Keyscope server on a fresh database, listening on a free port, serving the example schema. */
export async function startServer(kind: DatabaseKind, options: KeyscopeServerOptions = {}): Promise<TestServer> {
  const database = await freshDatabase(kind);
  const lines: string[] = [];
  const written = new EventEmitter();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      written.emit("line");
      done();
    },
  });
  const app = await createKeyscopeServer({
    typeDefs: exampleTypeDefs,
    resolvers: exampleResolvers,
    logger: createLogger("trace", sink),
    // Suites send many bad keys and requests from 127.0.0.1; the limits' own suites set theirs.
    limits: { failedAuth: { limit: 10_000, windowSeconds: 60 }, rateLimit: { limit: 100_000, windowSeconds: 60 } },
    ...database.options,
    // npm run test:jit runs the directive and security suites again on the graphql-jit executor.
    ...(process.env.TEST_EXECUTOR === "graphql-jit" ? { executor: "graphql-jit" as const } : {}),
    ...options,
  });
  const { url } = await app.listen({ port: 0, host: "127.0.0.1" });
  const users = new Map<string, string>();

  return {
    app,
    url,
    database,
    logs: () => lines.join(""),
    untilLogged: (done, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!done(lines.join(""))) return;
          clearTimeout(timer);
          written.off("line", check);
          resolve();
        };
        const timer = setTimeout(() => {
          written.off("line", check);
          reject(new Error(`the logs did not get there within ${ms} ms:\n${lines.join("")}`));
        }, ms);
        written.on("line", check);
        check();
      }),
    query: (query, headers = [], variables) => postGraphQL(url, { query, ...(variables ? { variables } : {}) }, headers),
    async issueKey(o = {}) {
      const email = o.email ?? `user${++counter}@example.com`;
      let userId = users.get(email);
      if (!userId) {
        const user = await app.users.createUser(CLI_PRINCIPAL, { email, role: o.role ?? "MEMBER", clientTypes: [o.clientType ?? "mobile"] });
        userId = user.id;
        users.set(email, userId);
      }
      const issued = await app.keys.createKey(
        CLI_PRINCIPAL,
        { userId, name: "test key", clientType: o.clientType ?? "mobile", scopes: o.scopes ?? [], expiresAt: o.expiresAt ?? null },
      );
      return { secret: issued.secret, keyId: issued.apiKey.id, userId };
    },
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

/** `X-API-Key: <secret>` as a header pair. */
export const apiKey = (secret: string): [string, string] => ["x-api-key", secret];
