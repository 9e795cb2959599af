import { chmodSync, lstatSync, rmSync, statSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import type { Core } from "../core.ts";
import { classify, ErrorCode } from "../errors.ts";
import { checkArgs, checkInput, commands } from "./commands.ts";
import {
  MAX_REQUEST_BYTES, MAX_SOCKET_PATH_BYTES, operatorSocketPath, parseRequest, readLine, REQUEST_TIMEOUT_MS, type OperatorResponse,
} from "./operator-protocol.ts";

/** The running server's end of the operator CLI. */
export interface OperatorSocket {
  readonly path: string;
  /** Stops accepting, lets commands in flight finish, removes the socket file. */
  close(): Promise<void>;
}

export class OperatorSocketError extends Error {
  override name = "OperatorSocketError";
}

/** Commands in flight at once; an operator runs one at a time. */
const MAX_CONNECTIONS = 4;

/**
 * Listens on `<dataDir>/keyscope.sock` (mode 0600: only the data directory's owner can connect)
 * and runs the operator commands (cli/commands.ts) on this server's core, as the CLI principal:
 * the same services, cache evictions and audit trail as the CLI on its own. A stale socket file
 * (nobody listening) is replaced. Undefined when the path is too long for a Unix socket.
 */
export async function openOperatorSocket(core: Core, dataDir: string): Promise<OperatorSocket | undefined> {
  const path = operatorSocketPath(dataDir);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    core.logger.warn({ path }, "the operator socket's path is too long for a Unix socket; the CLI works only while the server is stopped");
    return undefined;
  }
  await removeStaleSocket(path);
  if ((statSync(dataDir).mode & 0o022) !== 0) {
    core.logger.warn({ dataDir }, "the data directory is writable by group or others, who could replace the operator socket: chmod 700 it");
  }
  const waiting = new Set<Socket>(); // connected, request not read yet
  // Half-open allowed: a client may end its side after the request and still read the answer.
  const server = createServer({ allowHalfOpen: true }, (socket) => void serveOne(core, socket, waiting));
  server.maxConnections = MAX_CONNECTIONS;
  await listenPrivately(server, path);

  let closing: Promise<void> | undefined;
  return {
    path,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(path, { force: true });
          resolve();
        });
        for (const socket of waiting) socket.destroy();
      })),
  };
}

/** Reads one request, runs it, answers one line and closes. */
async function serveOne(core: Core, socket: Socket, waiting: Set<Socket>): Promise<void> {
  waiting.add(socket);
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
  socket.on("error", () => {}); // a client that hangs up early is its own business
  let line: string;
  try {
    line = await readLine(socket, MAX_REQUEST_BYTES);
  } catch {
    if (!socket.destroyed) reply(socket, refusal(ErrorCode.BAD_REQUEST, `A request is one JSON line of at most ${MAX_REQUEST_BYTES} bytes.`));
    return;
  } finally {
    waiting.delete(socket);
  }
  socket.setTimeout(0);
  reply(socket, await answer(core, line));
}

async function answer(core: Core, line: string): Promise<OperatorResponse> {
  let request;
  try {
    request = parseRequest(line);
  } catch (error) {
    return refusal(ErrorCode.BAD_REQUEST, (error as Error).message);
  }
  const command = Object.hasOwn(commands, request.command) ? commands[request.command] : undefined;
  if (!command) return refusal(ErrorCode.BAD_REQUEST, `The server runs no command "${request.command.slice(0, 64)}".`);
  try {
    checkArgs(command, request.args);
    checkInput(command, request.args);
    const output = await command.run(core, request.args);
    core.logger.info({ command: request.command, ok: true }, "operator command");
    return { ok: true, output };
  } catch (error) {
    const known = classify(error);
    // Never the arguments: standard input may hold a secret.
    core.logger[known ? "info" : "error"]({ command: request.command, ok: false, ...(known ? { code: known.code } : { err: error }) }, "operator command");
    return known ? refusal(known.code, known.message) : refusal(ErrorCode.INTERNAL_SERVER_ERROR, "The server could not run the command; its log says why.");
  }
}

function refusal(code: ErrorCode, message: string): OperatorResponse {
  return { ok: false, error: { code, message } };
}

function reply(socket: Socket, response: OperatorResponse): void {
  socket.end(`${JSON.stringify(response)}\n`);
}

/**
 * Binds with the umask at 0177, so that the socket is never reachable by others, not even for
 * a moment; chmod afterwards as well (worker threads may not change the umask).
 */
async function listenPrivately(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const previous = setUmask(0o177);
    try {
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    } finally {
      if (previous !== undefined) setUmask(previous);
    }
  });
  chmodSync(path, 0o600);
}

function setUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined;
  }
}

/**
 * A socket file left by a server that died is removed; one that something still listens on, or
 * anything that is not a socket, stops the start with a message saying so.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if (!stat.isSocket()) throw new OperatorSocketError(`${path} exists and is not a socket; remove it, then start again.`);
  if (await someoneListens(path)) throw new OperatorSocketError(`Another process listens on ${path}; stop it, then start again.`);
  rmSync(path, { force: true });
}

function someoneListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}
