import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConsoleRoute } from "../../src/http/console-route.ts";
import { readResponse, send, type HttpResponse } from "../helpers/http.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const INDEX = '<!doctype html><html lang="en"><head><script type="module" src="/console/assets/index-AbC123.js"></script></head></html>';
const SCRIPT = "console.info('hashed');";

/** A GET with the path sent exactly as written (a URL string would have its dot segments resolved). */
function rawGet(base: string, path: string): Promise<HttpResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: "GET" }, (res) => readResponse(res).then(resolve, reject));
    req.on("error", reject);
    req.end();
  });
}

/** The request's path without its query string, as the HTTP server hands it to a route. */
const pathOf = (url: string | undefined) => (url ?? "/").split("?")[0]!;

function expectSecurityHeaders(res: HttpResponse): void {
  expect(res.headers["content-security-policy"]).toBe(CSP);
  expect(res.headers["x-content-type-options"]).toBe("nosniff");
  expect(res.headers["referrer-policy"]).toBe("no-referrer");
}

describe("console route: a built console in a folder of its own", () => {
  let dir: string;
  let outside: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "keyscope-console-"));
    const root = join(dir, "console");
    mkdirSync(join(root, "assets"), { recursive: true });
    writeFileSync(join(root, "index.html"), INDEX);
    writeFileSync(join(root, "assets", "index-AbC123.js"), SCRIPT);
    writeFileSync(join(root, "assets", "index-AbC123.css"), "body{color:black}");
    writeFileSync(join(root, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    // A file beside the console that no path may reach.
    outside = join(dir, "secret.txt");
    writeFileSync(outside, "not for the browser");
    const route = createConsoleRoute({ root });
    server = createServer((req, res) => void route.handle(req, res, pathOf(req.url)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(["/console", "/console/", "/console/keys", "/console/keys/7d0e9b54-3f7a-4c59-9d6b-0f1e2d3c4b5a", "/console/users?after=abc"])(
    "answers the page's route %s with index.html, not cached",
    async (path) => {
      const res = await send(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(res.text).toBe(INDEX);
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.headers["cache-control"]).toBe("no-cache");
      expectSecurityHeaders(res);
    },
  );

  it("serves hashed assets with their content type, cached for good", async () => {
    const js = await send(`${base}/console/assets/index-AbC123.js`);
    expect(js.status).toBe(200);
    expect(js.text).toBe(SCRIPT);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(js.headers["content-length"]).toBe(String(SCRIPT.length));
    expectSecurityHeaders(js);
    const css = await send(`${base}/console/assets/index-AbC123.css`);
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    expect(css.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
  });

  it("serves other files unhashed, so not cached", async () => {
    const res = await send(`${base}/console/favicon.svg`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("image/svg+xml");
    expect(res.headers["cache-control"]).toBe("no-cache");
  });

  it("answers HEAD with the headers and no body", async () => {
    const res = await send(`${base}/console/assets/index-AbC123.js`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    expect(res.headers["content-length"]).toBe(String(SCRIPT.length));
    expectSecurityHeaders(res);
  });

  it.each(["POST", "PUT", "DELETE", "OPTIONS"])("refuses %s with 405 and Allow", async (method) => {
    const res = await send(`${base}/console/`, { method, body: method === "POST" ? "x" : undefined });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe("GET, HEAD");
    expect(res.text).toBe("The console only answers GET and HEAD.");
    expectSecurityHeaders(res);
  });

  it.each(["/console/assets/missing-123.js", "/console/robots.txt", "/console/assets/index-AbC123.js/x.js"])(
    "answers a missing file %s with a clear 404",
    async (path) => {
      const res = await send(`${base}${path}`);
      expect(res.status).toBe(404);
      expect(res.text).toBe("No such console file.");
      expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8");
      expectSecurityHeaders(res);
    },
  );

  it.each([
    "/console/../secret.txt",
    "/console/assets/../../secret.txt",
    "/console/%2e%2e/secret.txt",
    "/console/assets/%2E%2E%2F%2E%2E%2Fsecret.txt",
    "/console/..%5csecret.txt",
    "/console/assets%5c..%5c..%5csecret.txt",
    "/console/./index.html",
    "/console/%00.js",
    "/console/%E0%A4%A.js",
  ])("never reaches outside the console folder: %s", async (path) => {
    const res = await rawGet(base, path);
    expect(res.status).toBe(400);
    expect(res.text).toBe("The console path is not valid.");
    expect(res.text).not.toContain("not for the browser");
    expectSecurityHeaders(res);
  });

  it("never serves an absolute path smuggled in after the mount", async () => {
    for (const path of [`/console/${outside}`, `/console/%2F${outside.slice(1).replaceAll("/", "%2F")}`]) {
      const res = await rawGet(base, path);
      expect(res.status, path).toBe(404);
      expect(res.text).not.toContain("not for the browser");
    }
  });

  it("does not claim paths that only begin with the mount's letters", async () => {
    const res = await send(`${base}/consolex/index.html`);
    expect(res.status).toBe(404);
    expect(res.text).toBe("No such console page.");
  });
});

describe("console route: not built", () => {
  it("says how to build it, with the security headers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "keyscope-console-empty-"));
    const route = createConsoleRoute({ root: dir });
    const server = createServer((req, res) => void route.handle(req, res, pathOf(req.url)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const res = await send(`http://127.0.0.1:${(server.address() as AddressInfo).port}/console/keys`);
      expect(res.status).toBe(503);
      expect(res.text).toBe("The console is not built. Run `npm run build`.");
      expectSecurityHeaders(res);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("console route in createKeyscopeServer", () => {
  let on: TestServer;
  let off: TestServer;
  const origin = (server: TestServer) => server.url.replace(/\/graphql$/, "");

  beforeAll(async () => {
    on = await startServer("pglite");
    off = await startServer("pglite", { console: false });
  });
  afterAll(async () => {
    await on?.close();
    await off?.close();
  });

  it("serves /console by default, with the security headers", async () => {
    const res = await send(`${origin(on)}/console`);
    // Whether the console is built depends on `npm run build`; both answers come from the route.
    expect([200, 503]).toContain(res.status);
    expect(res.headers["content-type"]).toMatch(res.status === 200 ? /^text\/html/ : /^text\/plain/);
    expectSecurityHeaders(res);
  });

  it("has no /console route with console: false", async () => {
    const res = await send(`${origin(off)}/console`);
    expect(res.status).toBe(404);
    expect(res.headers["content-security-policy"]).toBeUndefined();
    expect(res.json).toEqual({ error: "Not found. GraphQL is served at /graphql." });
  });

  it("leaves GraphQL and the health endpoints where they were", async () => {
    expect((await send(`${origin(on)}/healthz`)).status).toBe(200);
    const res = await on.query("{ __typename }");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ data: { __typename: "Query" } });
  });
});
