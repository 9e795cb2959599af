// npm start: read config → open database → migrate → build server → listen; drain on SIGTERM.
import { ConfigError, loadConfig } from "./config.ts";
import { OperatorSocketError } from "./cli/operator-socket.ts";
import { DataDirLockedError } from "./db/data-dir-lock.ts";
import { serializeError } from "./error-serializer.ts";
import { exampleResolvers, exampleTypeDefs } from "./example/catalogue.ts";
import { createKeyscopeServer } from "./keyscope-server.ts";

/** What a first run needs to hear; the command works while this server runs. */
const FIRST_ADMIN_HINT =
  "No admin yet. Create the first one from another terminal, in this directory and with the same environment " +
  "(the server keeps running): npx keyscope bootstrap --email you@example.com";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createKeyscopeServer({ ...config, typeDefs: exampleTypeDefs, resolvers: exampleResolvers });
  const needsAdmin = !(await app.core.hasEnabledAdmin());
  const { url, metricsUrl } = await app.listen();
  app.logger.info({ url, database: app.database.kind, ...(metricsUrl ? { metricsUrl } : {}) }, `Keyscope is listening at ${url}`);
  if (needsAdmin) app.logger.info(FIRST_ADMIN_HINT);

  const stop = (signal: string) => {
    app.logger.info({ signal }, "stopping: draining requests");
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, "could not stop cleanly");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((error: unknown) => {
  // Expected start-up refusals get their message alone; anything else its stack too, without SQL values.
  const expected = error instanceof ConfigError || error instanceof DataDirLockedError || error instanceof OperatorSocketError || (error as Error).name === "DirectiveError";
  const { message, stack } = serializeError(error) as { message?: string; stack?: string };
  process.stderr.write(`keyscope: ${expected ? message : stack ?? String(error)}\n`);
  process.exit(1);
});
