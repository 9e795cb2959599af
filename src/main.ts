// npm start: read config → open database → migrate → build server → listen; drain on SIGTERM.
import { ConfigError, loadConfig } from "./config.ts";
import { DataDirLockedError } from "./db/data-dir-lock.ts";
import { serializeError } from "./error-serializer.ts";
import { exampleResolvers, exampleTypeDefs } from "./example/catalogue.ts";
import { createKeyscopeServer } from "./keyscope-server.ts";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createKeyscopeServer({ ...config, typeDefs: exampleTypeDefs, resolvers: exampleResolvers });
  const { url } = await app.listen();
  app.logger.info({ url, database: app.database.kind }, `Keyscope is listening at ${url}`);

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
  const expected = error instanceof ConfigError || error instanceof DataDirLockedError || (error as Error).name === "DirectiveError";
  const { message, stack } = serializeError(error) as { message?: string; stack?: string };
  process.stderr.write(`keyscope: ${expected ? message : stack ?? String(error)}\n`);
  process.exit(1);
});
