import { pino, type Logger } from "pino";
import type { LogLevel } from "./config.ts";
import { safeErrorMessage, serializeError, withoutQueryParameters } from "./error-serializer.ts";

export type { Logger };

/**
 * JSON logs. Keyscope never hands a header, query string or body to the logger; the redaction
 * is a second line of defence for anything a plugin or a library user might log. Errors (under
 * `err` or `error`, or logged on their own) lose their SQL parameters (error-serializer.ts), and
 * so does text that holds a stringified query error (Apollo logs `${error}`).
 */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "keyscope" },
      serializers: { err: serializeError, error: serializeError },
      hooks: {
        logMethod(args, method) {
          const first: unknown = args[0];
          // logger.error(err) takes its message from err.message: give it the scrubbed one.
          if (first instanceof Error && typeof args[1] !== "string") return method.call(this, { err: first }, safeErrorMessage(first));
          // Every request logs a line: copy the arguments only when one needs scrubbing.
          if (!args.some((arg) => typeof arg === "string" && arg !== withoutQueryParameters(arg))) return method.apply(this, args);
          const scrubbed = args.map((arg) => (typeof arg === "string" ? withoutQueryParameters(arg) : arg));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      redact: {
        paths: [
          "secret",
          "*.secret",
          "apiKey",
          "*.apiKey",
          "headers.authorization",
          'headers["x-api-key"]',
          "headers.cookie",
          "req.headers.authorization",
          'req.headers["x-api-key"]',
          "req.headers.cookie",
        ],
        censor: "[REDACTED]",
      },
    },
    destination ?? process.stdout,
  );
}
