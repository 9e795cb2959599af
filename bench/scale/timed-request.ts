// One POST over node:http with a given agent (keep-alive, or bound to a local address), timed
// from the call to the last byte of the answer.
import { request, type Agent } from "node:http";

export interface TimedAnswer {
  status: number;
  text: string;
  ms: number;
}

export function timedPost(url: URL, agent: Agent, headers: Record<string, string>, body: string): Promise<TimedAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
