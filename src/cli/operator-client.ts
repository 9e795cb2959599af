import { lstatSync, type Stats } from "node:fs";
import { connect } from "node:net";
import { MAX_RESPONSE_BYTES, readLine, RESPONSE_TIMEOUT_MS, type OperatorRequest, type OperatorResponse } from "./operator-protocol.ts";

/** The socket cannot be trusted or used: the message says why. */
export class OperatorSocketRefusedError extends Error {
  override name = "OperatorSocketRefusedError";
}

/** Nobody listens on the socket (the server has just stopped, or died): open the database instead. */
export class ServerGoneError extends Error {
  override name = "ServerGoneError";
}

/**
 * Why the socket file must not be used, or undefined when it may: it must be a socket, owned by
 * the user running the CLI, with no permission bits for group or others. Node cannot read the
 * peer's credentials (SO_PEERCRED) without native code, so the file's owner and mode, and the
 * data directory's permissions, are the whole access control.
 */
export function socketFileProblem(path: string, stat: Pick<Stats, "uid" | "mode" | "isSocket">, uid: number | undefined): string | undefined {
  if (!stat.isSocket()) return `${path} is not a socket.`;
  if (uid !== undefined && stat.uid !== uid) {
    return `${path} belongs to uid ${stat.uid}, not to you (uid ${uid}): it may not be your server's. Run the command as the user that runs the server.`;
  }
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    return `${path} has mode ${mode.toString(8).padStart(4, "0")}: group or others may use it, so the CLI will not send commands through it. ` +
      `Restart the server (it creates the socket with mode 0600), or chmod 600 it.`;
  }
  return undefined;
}

/** Checks the socket file (throws OperatorSocketRefusedError, or ServerGoneError when it is gone). */
export function checkSocketFile(path: string): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new ServerGoneError(`${path} is gone`);
    throw error;
  }
  const problem = socketFileProblem(path, stat, process.getuid?.());
  if (problem) throw new OperatorSocketRefusedError(problem);
}

/** Sends one request and reads the one-line answer. */
export function sendOperatorRequest(path: string, request: OperatorRequest, timeoutMs = RESPONSE_TIMEOUT_MS): Promise<OperatorResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new OperatorSocketRefusedError(`The server did not answer within ${timeoutMs / 1000} s on ${path}.`));
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNREFUSED" || error.code === "ENOENT") reject(new ServerGoneError(`nobody listens on ${path}`));
      else reject(new OperatorSocketRefusedError(`Could not talk to the server on ${path}: ${error.message}`));
    });
    socket.once("connect", () => {
      readLine(socket, MAX_RESPONSE_BYTES).then(
        (line) => {
          socket.destroy();
          try {
            resolve(JSON.parse(line) as OperatorResponse);
          } catch {
            reject(new OperatorSocketRefusedError(`The server on ${path} answered something that is not JSON.`));
          }
        },
        () => {
          socket.destroy();
          reject(new OperatorSocketRefusedError(`The server on ${path} closed the connection without an answer.`));
        },
      );
      socket.write(`${JSON.stringify(request)}\n`);
    });
  });
}
