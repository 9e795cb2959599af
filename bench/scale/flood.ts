// Child process of bench:scale: sends forged well-formed keys (right length, alphabet and
// checksum, never issued) to the server from other loopback addresses, at a fixed rate for a
// fixed time, then reports what came back. Loopback only, bounded in count and time.
import { connect, type Socket } from "node:net";
import { generateKey } from "../../src/keys/key-format.ts";

export interface FloodOrder {
  url: string;
  /** Source addresses in 127.0.0.0/8, up to 4 keep-alive connections each. */
  addresses: string[];
  requestsPerSecond: number;
  seconds: number;
  keyPrefix: string;
}

export interface FloodReport {
  sent: number;
  /** Requests not sent because `maxInFlight` were in flight already (the server fell behind). */
  skipped: number;
  maxInFlight: number;
  statuses: Record<string, number>;
  cpuMicros: number;
}

const MAX_IN_FLIGHT = 64;
const SOCKETS_PER_ADDRESS = 4;
const TICK_MS = 10;

/**
 * The flood's requests are written as bytes made before it starts (keys, checksums and all) on
 * raw keep-alive sockets: node:http's client costs some 300 µs of CPU per request, which on two
 * shared cores would be taken from the valid key's load generator and counted against the server.
 */
async function flood(order: FloodOrder): Promise<FloodReport> {
  for (const address of order.addresses) {
    if (!address.startsWith("127.")) throw new Error(`flood source ${address} is not a loopback address`);
  }
  const url = new URL(order.url);
  if (url.hostname !== "127.0.0.1") throw new Error(`flood target ${url.hostname} is not 127.0.0.1`);
  const total = Math.round(order.requestsPerSecond * order.seconds);
  const body = JSON.stringify({ query: "{ __typename }" });
  const requests = Array.from({ length: total }, () =>
    Buffer.from(
      `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\nx-api-key: ${generateKey(order.keyPrefix)}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ),
  );
  const pools = order.addresses.map((localAddress) => new ConnectionPool(Number(url.port), localAddress));
  const report: FloodReport = { sent: 0, skipped: 0, maxInFlight: MAX_IN_FLIGHT, statuses: {}, cpuMicros: 0 };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  let next = 0;
  while (next < total) {
    // Due so far at the fixed rate; the loop wakes every 10 ms and sends what is due.
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * order.requestsPerSecond));
    for (; next < due; next++) {
      if (inFlight >= MAX_IN_FLIGHT) {
        report.skipped++;
        continue;
      }
      inFlight++;
      pending.push(
        pools[next % pools.length]!.send(requests[next]!)
          .then((status) => {
            report.statuses[status] = (report.statuses[status] ?? 0) + 1;
          }, () => {
            report.statuses.error = (report.statuses.error ?? 0) + 1;
          })
          .finally(() => inFlight--),
      );
      report.sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await Promise.all(pending);
  const cpu = process.cpuUsage(cpuBefore);
  report.cpuMicros = cpu.user + cpu.system;
  for (const pool of pools) pool.close();
  return report;
}

/** Up to SOCKETS_PER_ADDRESS keep-alive connections from one source address; requests wait for a free one. */
class ConnectionPool {
  private idle: Connection[] = [];
  private open = 0;
  private waiting: ((connection: Connection) => void)[] = [];
  private all = new Set<Connection>();

  constructor(
    private readonly port: number,
    private readonly localAddress: string,
  ) {}

  async send(request: Buffer): Promise<number> {
    const connection = await this.take();
    try {
      return await connection.exchange(request);
    } finally {
      if (connection.usable) this.give(connection);
      else this.dropped(connection);
    }
  }

  close(): void {
    for (const connection of this.all) connection.socket.destroy();
  }

  private take(): Promise<Connection> {
    const ready = this.idle.pop();
    if (ready) return Promise.resolve(ready);
    if (this.open < SOCKETS_PER_ADDRESS) {
      this.open++;
      const connection = new Connection(connect({ host: "127.0.0.1", port: this.port, localAddress: this.localAddress, noDelay: true }));
      this.all.add(connection);
      return Promise.resolve(connection);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private give(connection: Connection): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(connection);
    else this.idle.push(connection);
  }

  private dropped(connection: Connection): void {
    this.all.delete(connection);
    this.open--;
    const waiter = this.waiting.shift();
    if (waiter) void this.take().then(waiter);
  }
}

/** One keep-alive connection: one request at a time, the answer read up to its content-length. */
class Connection {
  usable = true;
  private buffer: Buffer = Buffer.alloc(0);
  private current: { resolve: (status: number) => void; reject: (error: Error) => void } | undefined;

  constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.read(chunk));
    const fail = (error: Error) => {
      this.usable = false;
      this.current?.reject(error);
      this.current = undefined;
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
  }

  exchange(request: Buffer): Promise<number> {
    if (!this.usable) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => {
      this.current = { resolve, reject };
      this.socket.write(request);
    });
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf("\r\n\r\n");
    if (end === -1 || !this.current) return;
    const head = this.buffer.subarray(0, end).toString("latin1");
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
    if (!Number.isFinite(length)) return this.current.reject(new Error("an answer without content-length"));
    if (this.buffer.length < end + 4 + length) return;
    this.buffer = this.buffer.subarray(end + 4 + length);
    if (/\r\nconnection: *close/i.test(head)) this.usable = false;
    const { resolve } = this.current;
    this.current = undefined;
    resolve(Number(head.slice(9, 12)));
  }
}

process.once("message", (order) => {
  process.send!("started");
  flood(order as FloodOrder).then(
    (report) => process.send!(report, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`flood: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
});
