import type { Route } from "./server.ts";
import { sendJson } from "./respond.ts";

/** `/healthz`: the process is up. `/readyz`: the database answers (`checkReady` throws when not). */
export function healthRoutes(checkReady: () => Promise<void>): Route[] {
  return [
    { path: "/healthz", handle: (_req, res) => sendJson(res, 200, { status: "ok" }) },
    {
      path: "/readyz",
      handle: async (_req, res) => {
        try {
          await checkReady();
          sendJson(res, 200, { status: "ready" });
        } catch {
          sendJson(res, 503, { status: "unavailable", reason: "The database is not reachable." });
        }
      },
    },
  ];
}
