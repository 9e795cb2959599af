// The Keyscope server of bench:scale: the bench's Keyscope stack on PostgreSQL
// (BENCH_SCALE_DATABASE_URL, set by the parent), with two extra requests for the parent:
// "heap" (heap bytes after a full GC; the child runs with --expose-gc) and "clear-cache".
import { startKeyscope } from "../stacks/keyscope.ts";
import type { RunningStack, StackOptions } from "../stacks/running-stack.ts";

export async function startScaleKeyscope(options: StackOptions): Promise<RunningStack> {
  const databaseUrl = process.env.BENCH_SCALE_DATABASE_URL;
  if (!databaseUrl) throw new Error("BENCH_SCALE_DATABASE_URL is not set");
  const stack = await startKeyscope(options, { databaseUrl });
  const gc = (globalThis as { gc?: () => void }).gc;
  return {
    ...stack,
    async handle(request) {
      if (request === "clear-cache") return void stack.app.cache.clear();
      if (request === "heap") {
        if (!gc) throw new Error("run with --expose-gc");
        // Twice: the first pass can leave objects that only a second one frees (weak maps).
        gc();
        gc();
        return process.memoryUsage().heapUsed;
      }
      throw new Error(`unknown request ${request}`);
    },
  };
}
