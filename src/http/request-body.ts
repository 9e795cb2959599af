import type { IncomingMessage } from "node:http";

export type Body = { kind: "ok"; text: string } | { kind: "too-large" };

/** The whole body as text, unless it is (or declares itself) larger than `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Body> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve({ kind: "too-large" });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        resolve({ kind: "too-large" });
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      // Most bodies come in one chunk: no copy of it then.
      if (!done) resolve({ kind: "ok", text: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8") });
    });
    req.on("error", reject);
  });
}

/** JSON bodies parsed; others passed on as text for Apollo to judge; empty: undefined. */
export function parseBody(req: IncomingMessage, text: string): { kind: "ok"; value: unknown } | { kind: "invalid" } {
  const type = (req.headers["content-type"] ?? "").toLowerCase();
  if (text === "" || !type.includes("json")) return { kind: "ok", value: text === "" ? undefined : text };
  try {
    return { kind: "ok", value: JSON.parse(text) };
  } catch {
    return { kind: "invalid" };
  }
}
