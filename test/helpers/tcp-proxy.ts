import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";

/**
 * A TCP proxy in front of a real server, to make it unreachable at will: `refuse()` drops every
 * connection and stops listening (as a stopped database: connections reset, new ones refused),
 * `blackhole()` drops every connection and then accepts new ones without ever answering (as an
 * unreachable host behind a firewall that accepts the SYN), `forward()` brings it back on the
 * same port.
 */
export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  forward(): Promise<void>;
  refuse(): Promise<void>;
  blackhole(): Promise<void>;
  close(): Promise<void>;
}

type Mode = "forward" | "blackhole";

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let mode: Mode = "forward";
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (mode === "blackhole") return; // accepted, never answered
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const listen = async (port: number) => {
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
  };
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  const stopListening = () => (server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve());

  return {
    port,
    urlFor(url) {
      const changed = new URL(url);
      changed.hostname = "127.0.0.1";
      changed.port = String(port);
      return changed.toString();
    },
    async forward() {
      mode = "forward";
      if (!server.listening) await listen(port);
    },
    async refuse() {
      const closed = stopListening();
      dropAll();
      await closed;
    },
    async blackhole() {
      mode = "blackhole";
      dropAll();
      if (!server.listening) await listen(port);
    },
    async close() {
      const closed = stopListening();
      dropAll();
      await closed;
    },
  };
}
