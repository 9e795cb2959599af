// Child process of the bench: starts one stack on 127.0.0.1 (a free port) and reports its
// `ServerReady` to the parent over IPC. `argv[2]` names the stack (see `stacks`), `argv[3]` is
// its StackOptions as JSON. It answers the message "cpu" with its `process.cpuUsage()` (and
// other requests through the stack's `handle`), and exits when the parent disconnects (normal
// end, crash or kill of the parent alike).
import { startApolloShield } from "./stacks/apollo-shield.ts";
import { startBareApollo } from "./stacks/bare-apollo.ts";
import { startKeyscope } from "./stacks/keyscope.ts";
import { startMercuriusAuth } from "./stacks/mercurius-auth.ts";
import type { RunningStack, StackOptions } from "./stacks/running-stack.ts";
import { startYogaGenericAuth } from "./stacks/yoga-generic-auth.ts";
import { startScaleKeyscope } from "./scale/scale-server.ts";

export type { ServerReady, StackOptions } from "./stacks/running-stack.ts";

const stacks = {
  keyscope: startKeyscope,
  "bare-apollo": startBareApollo,
  "apollo-shield": startApolloShield,
  "yoga-generic-auth": startYogaGenericAuth,
  "mercurius-auth": startMercuriusAuth,
  "keyscope-postgres": startScaleKeyscope,
} satisfies Record<string, (options: StackOptions) => Promise<RunningStack>>;

export type StackKind = keyof typeof stacks;

async function main(): Promise<void> {
  if (!process.send) throw new Error("bench/servers.ts runs as a child of the bench (needs an IPC channel).");
  const kind = process.argv[2] as StackKind;
  const start = stacks[kind];
  if (!start) throw new Error(`Unknown stack: ${kind}`);
  const options = JSON.parse(process.argv[3] ?? '{"auth":true}') as StackOptions;
  const stack = await start(options);
  process.once("disconnect", () => {
    const force = setTimeout(() => process.exit(0), 2_000);
    force.unref();
    stack.close().finally(() => process.exit(0));
  });
  process.on("message", (message) => {
    if (message === "cpu") return void process.send!(process.cpuUsage());
    if (typeof message !== "string" || !stack.handle) return void process.send!({ error: `unknown request ${String(message)}` });
    stack.handle(message).then(
      (result) => process.send!({ result }),
      (error: unknown) => process.send!({ error: (error as Error).message }),
    );
  });
  process.send(stack.ready);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench server: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
