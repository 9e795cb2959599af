import { pino, type Logger } from "pino";
import type { LogLevel } from "./config.ts";

export type { Logger };

/**
 * JSON logs. Keyscope never hands a header, query string or body to the logger; the redaction
 * is a second line of defence for anything a plugin or a library user might log.
 */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "keyscope" },
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
