// The HTTP layer under abusive clients, over real sockets: a huge body is refused without being
// read, slow headers and slow bodies are cut off, idle keep-alive connections end, connections
// beyond the cap are closed; and the security headers are on every response. Nothing is timed:
// each test sends more than the server should take and proves the server stopped it first.
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postGraphQL, send } from "../helpers/http.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";

const MAX_BODY = 2048;

describe("the HTTP layer", () => {
  let server: TestServer;
  /** The server's side of every connection, to see how much it read. */
  const accepted: Socket[] = [];
  beforeAll(async () => {
    server = await startServer("pglite", {
      limits: { maxBodyBytes: MAX_BODY },
      http: { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 1000, maxConnections: 10_000 },
    });
    server.app.httpServer.on("connection", (socket: Socket) => accepted.push(socket));
  });
  afterAll(() => server?.close());

  describe("a body over the limit: 413 and the connection closed, the rest never read", () => {
    const HUGE = 64 * 1024 * 1024;

    it.each([
      ["declared by Content-Length", `content-length: ${HUGE}`],
      ["sent chunked, without a length", "transfer-encoding: chunked"],
    ])("%s", async (_, framing) => {
      const { port } = new URL(server.url);
      const client = connect(Number(port), "127.0.0.1");
      await once(client, "connect");
      const serverSide = await serverSocketOf(accepted, client);
      const received: Buffer[] = [];
      client.on("data", (chunk: Buffer) => received.push(chunk));
      client.on("error", () => {}); // the server may reset a connection it stopped reading
      const closed = closeOf(client);
      client.write(`POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n${framing}\r\n\r\n`);
      const chunked = framing.startsWith("transfer");
      const written = await writeUntilClosed(client, HUGE, chunked);
      await closed;

      const response = Buffer.concat(received).toString("latin1");
      expect(response).toMatch(/^HTTP\/1\.1 413 /);
      expect(response.toLowerCase()).toContain("connection: close");
      expect(response).toContain("PAYLOAD_TOO_LARGE");
      // The server stopped the client long before the body's end, and read far less than it.
      expect(written).toBeLessThan(HUGE);
      expect(serverSide.bytesRead).toBeLessThan(HUGE / 4);
    });

    it("a body under the limit on the same server is answered, the connection kept", async () => {
      const res = await postGraphQL(server.url, { query: "{ products { id } }" });
      expect(res.status).toBe(200);
      expect(res.headers.connection).toBe("keep-alive");
    });
  });

  it("headers trickled one line at a time are cut off at the header timeout with 408", async () => {
    const client = await rawClient(server.url);
    client.socket.write("POST /graphql HTTP/1.1\r\nhost: localhost\r\n");
    // 400 lines 50 ms apart would take 20 s; the server must end it well before.
    let sent = 0;
    while (!client.closed() && sent < 400) {
      client.socket.write(`x-trickle-${sent++}: a\r\n`);
      await sleep(50);
    }
    await client.closing;
    expect(sent).toBeLessThan(400);
    expect(client.text()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("a body trickled byte by byte is cut off at the request timeout with 408", async () => {
    const client = await rawClient(server.url);
    const body = JSON.stringify({ query: `{ products { id } } #${"x".repeat(1000)}` });
    client.socket.write(`POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
    let sent = 0;
    while (!client.closed() && sent < body.length) {
      client.socket.write(body[sent++]!);
      await sleep(20);
    }
    await client.closing;
    expect(sent).toBeLessThan(body.length);
    expect(client.text()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("an idle keep-alive connection is told the configured timeout and then closed by the server", async () => {
    const client = await rawClient(server.url);
    client.socket.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
    await client.closing;
    expect(client.text()).toMatch(/^HTTP\/1\.1 200 /);
    expect(client.text().toLowerCase()).toContain("keep-alive: timeout=1");
    // We never closed it: the server did.
    expect(client.endedByServer()).toBe(true);
  });

  describe("security headers", () => {
    it("X-Content-Type-Options: nosniff and Cache-Control: no-store on every GraphQL answer", async () => {
      const { secret } = await server.issueKey();
      const answers = await Promise.all([
        postGraphQL(server.url, { query: "{ products { id } }" }),
        postGraphQL(server.url, { query: "{ me { apiKey { id } } }" }, [apiKey(secret)]),
        postGraphQL(server.url, { query: "{ inventory { quantity } }" }, [apiKey("ks_not_a_key")]),
        postGraphQL(server.url, { query: "{ nope }" }),
        send(server.url, { method: "POST", headers: [["content-type", "application/json"]], body: "{not json" }),
        send(server.url, { method: "POST", headers: [["content-type", "application/json"]], body: JSON.stringify({ query: "x".repeat(MAX_BODY) }) }),
        send(`${server.url}?query=${encodeURIComponent("{ products { id } }")}`, { headers: [["apollo-require-preflight", "1"]] }),
      ]);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 401, 400, 400, 413, 200]);
      for (const answer of answers) {
        expect(answer.headers["x-content-type-options"]).toBe("nosniff");
        expect(answer.headers["cache-control"]).toBe("no-store");
      }
    });

    it("nosniff on the other routes too", async () => {
      const base = server.url.replace("/graphql", "");
      for (const path of ["/healthz", "/readyz", "/nowhere"]) {
        const res = await send(`${base}${path}`);
        expect(res.headers["x-content-type-options"], path).toBe("nosniff");
      }
    });
  });
});

describe("the connection cap", () => {
  const CAP = 3;
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer("pglite", { http: { maxConnections: CAP } });
  });
  afterAll(() => server?.close());

  it(`refuses connection ${CAP + 1} at once, and takes new ones once others have gone`, async () => {
    const drops: unknown[] = [];
    server.app.httpServer.on("drop", (data) => drops.push(data));
    const held = await Promise.all(Array.from({ length: CAP }, () => rawClient(server.url)));
    await waitFor("the server counts the held connections", async () => (await connections(server)) === CAP, 10_000, 10);

    const extra = await rawClient(server.url);
    extra.socket.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
    await extra.closing;
    expect(extra.text()).toBe("");
    expect(drops).toHaveLength(1);
    // The held ones still work.
    held[0]!.socket.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    await held[0]!.closing;
    expect(held[0]!.text()).toMatch(/^HTTP\/1\.1 200 /);

    // One place is free again: a new client is served.
    await waitFor("the server counts one connection less", async () => (await connections(server)) < CAP, 10_000, 10);
    expect((await send(server.url.replace("/graphql", "/healthz"), { headers: [["connection", "close"]] })).status).toBe(200);
    for (const client of held) client.socket.destroy();
  });
});

interface RawClient {
  socket: Socket;
  closing: Promise<unknown>;
  closed(): boolean;
  text(): string;
  /** The server ended the connection (we had not). */
  endedByServer(): boolean;
}

async function rawClient(url: string): Promise<RawClient> {
  const socket = connect(Number(new URL(url).port), "127.0.0.1");
  const chunks: Buffer[] = [];
  let closed = false;
  let ended = false;
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("end", () => (ended = true));
  socket.on("error", () => {});
  const closing = closeOf(socket).then(() => (closed = true));
  await once(socket, "connect");
  return { socket, closing, closed: () => closed, text: () => Buffer.concat(chunks).toString("latin1"), endedByServer: () => ended || closed };
}

/** When the socket closes, however (events.once would reject on a reset). */
const closeOf = (socket: Socket) => new Promise<void>((resolve) => socket.once("close", () => resolve()));

/** Writes up to `total` body bytes (as chunks when `chunked`), as fast as the socket takes them, until it closes. */
async function writeUntilClosed(socket: Socket, total: number, chunked: boolean): Promise<number> {
  const piece = Buffer.alloc(64 * 1024, "a");
  const frame = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece;
  let written = 0;
  while (written < total && !socket.destroyed && socket.writable) {
    const more = socket.write(frame);
    written += piece.length;
    if (!more) await new Promise((resolve) => (socket.once("drain", resolve), socket.once("close", resolve)));
  }
  return written;
}

/** The server's side of a client socket, among those it accepted (matched by the client's port). */
async function serverSocketOf(accepted: Socket[], client: Socket): Promise<Socket> {
  return waitFor("the server accepts the connection", () => accepted.find((s) => s.remotePort === client.localPort), 10_000, 5);
}

function connections(server: TestServer): Promise<number> {
  return new Promise((resolve, reject) => server.app.httpServer.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
