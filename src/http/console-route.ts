import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { packageRoot } from "../package-root.ts";
import type { Route } from "./server.ts";

export interface ConsoleRouteOptions {
  /** The built console (vite's output). @default <package root>/dist/console */
  root?: string;
}

const MOUNT = "/console";

/**
 * The key console's static files (SPEC §10). Paths without a file extension are the page's
 * own routes and get index.html; files are looked up below `root` only. The console holds no
 * power of its own: it talks to /graphql with the key a person pastes.
 */
export function createConsoleRoute(options: ConsoleRouteOptions = {}): Route {
  const root = resolve(options.root ?? join(packageRoot, "dist", "console"));
  return {
    path: MOUNT,
    prefix: true,
    handle: (req, res, path) => serve(root, req, res, path),
  };
}

/**
 * No inline script or style, nothing from another origin, no framing. `img-src data:` is for
 * the browser's own form-control images; every request goes to this origin only.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
});

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

/** Vite's hashed output: its name changes with its content, so it may be cached for good. */
const HASHED_ASSETS = "assets/";
const IMMUTABLE = "public, max-age=31536000, immutable";

async function serve(root: string, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) res.setHeader(name, value);
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    return sendText(req, res, 405, "The console only answers GET and HEAD.");
  }
  const relative = relativePath(path);
  if (relative === undefined) return sendText(req, res, 404, "No such console page.");
  if (relative.kind === "bad") return sendText(req, res, 400, "The console path is not valid.");

  if (relative.kind === "page") {
    const index = await readIfExists(join(root, "index.html"));
    if (!index) return sendText(req, res, 503, "The console is not built. Run `npm run build`.");
    return sendFile(req, res, index, CONTENT_TYPES[".html"]!, "no-cache");
  }
  const file = resolve(root, relative.file);
  if (!file.startsWith(root + sep)) return sendText(req, res, 404, "No such console file.");
  const body = await readIfExists(file);
  if (!body) return sendText(req, res, 404, "No such console file.");
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
  return sendFile(req, res, body, type, relative.file.startsWith(HASHED_ASSETS) ? IMMUTABLE : "no-cache");
}

type Relative = { kind: "page" } | { kind: "file"; file: string } | { kind: "bad" };

/** What below /console was asked for; undefined when the path is not under /console at all. */
function relativePath(path: string): Relative | undefined {
  if (path !== MOUNT && !path.startsWith(`${MOUNT}/`)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.slice(MOUNT.length + 1));
  } catch {
    return { kind: "bad" };
  }
  const segments = decoded.split("/");
  // Refused outright rather than resolved: "..", "\" and NUL have no business in a console path.
  if (decoded.includes("\\") || decoded.includes("\0") || segments.some((s) => s === ".." || s === ".")) return { kind: "bad" };
  const last = segments.at(-1) ?? "";
  // The page's routes (/console/keys/<id>) have no extension; files always do.
  return extname(last) === "" ? { kind: "page" } : { kind: "file", file: segments.join("/") };
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

function sendFile(req: IncomingMessage, res: ServerResponse, body: Buffer, type: string, cacheControl: string): void {
  res.statusCode = 200;
  res.setHeader("content-type", type);
  res.setHeader("cache-control", cacheControl);
  res.setHeader("content-length", body.length);
  res.end(req.method === "HEAD" ? undefined : body);
}

function sendText(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader("content-type", CONTENT_TYPES[".txt"]!);
  res.setHeader("cache-control", "no-cache");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(req.method === "HEAD" ? undefined : text);
}
