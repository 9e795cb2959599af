import { resolve } from "node:path";
import type { Socket } from "node:net";
import { z } from "zod";
import type { ErrorCode } from "../errors.ts";
import type { CommandArgs, Output } from "./commands.ts";

/**
 * The operator socket's wire format: the CLI sends one JSON line `{ command, args }`, the server
 * answers one JSON line and closes. JSON.stringify escapes newlines, so a line is a message.
 */
export interface OperatorRequest {
  command: string;
  args: CommandArgs;
}

export type OperatorResponse = { ok: true; output: Output } | { ok: false; error: { code: ErrorCode; message: string } };

/** In the data directory, beside keyscope.lock. */
export const SOCKET_FILE = "keyscope.sock";
/** A request is a command name and a few short arguments; a secret is far below this. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** `keys list` of a user with very many keys stays well below this. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** A client that connects must send its request within this. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** How long the CLI waits for the server's answer. */
export const RESPONSE_TIMEOUT_MS = 60_000;
/** Linux's sun_path holds 108 bytes with the final NUL; a longer path would be cut short silently. */
export const MAX_SOCKET_PATH_BYTES = 107;

export function operatorSocketPath(dataDir: string): string {
  return resolve(dataDir, SOCKET_FILE);
}

const requestSchema = z.strictObject({
  command: z.string().max(64),
  args: z.strictObject({
    email: z.string().max(1024).optional(),
    positionals: z.array(z.string().max(1024)).max(8),
    input: z.string().optional(),
  }),
});

/** A request line, checked; throws with a plain message for anything else. */
export function parseRequest(line: string): OperatorRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error("The request is not JSON.");
  }
  const parsed = requestSchema.safeParse(value);
  if (!parsed.success) throw new Error("The request is not { command, args: { email?, positionals, input? } }.");
  const { command, args } = parsed.data;
  return { command, args: { positionals: args.positionals, ...(args.email === undefined ? {} : { email: args.email }), ...(args.input === undefined ? {} : { input: args.input }) } };
}

export class LineTooLongError extends Error {
  override name = "LineTooLongError";
}

/**
 * The first line the peer sends, without its newline. Rejects once more than `maxBytes` arrive
 * without one, or when the stream ends or fails first. Stops reading once it has the line.
 */
export function readLine(socket: Socket, maxBytes: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (settle: () => void) => {
      socket.off("data", onData).off("end", onEnd).off("error", onError).off("close", onEnd);
      settle();
    };
    const onData = (chunk: Buffer) => {
      const newline = chunk.indexOf(0x0a);
      const kept = newline === -1 ? chunk : chunk.subarray(0, newline);
      chunks.push(kept);
      length += kept.length;
      if (length > maxBytes) return finish(() => reject(new LineTooLongError(`more than ${maxBytes} bytes without a newline`)));
      if (newline !== -1) finish(() => resolvePromise(Buffer.concat(chunks).toString("utf8")));
    };
    const onEnd = () => finish(() => reject(new Error("the connection ended before a whole line")));
    const onError = (error: Error) => finish(() => reject(error));
    socket.on("data", onData).on("end", onEnd).on("error", onError).on("close", onEnd);
  });
}
