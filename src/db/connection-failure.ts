/**
 * The code of an error that means the database could not be reached or did not answer in time
 * (as opposed to a query it refused): failures that pass by themselves, which clients see as 503
 * KEY_STORE_UNAVAILABLE. Undefined for any other error. Looks through drizzle's wrapper
 * (`cause`) and Node's AggregateError (one error per address tried). The code, unlike the
 * error, is safe to log: drizzle's message holds the query's parameters.
 */
export function connectionFailureCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && typeof current === "object" && depth < 5; depth++) {
    const { code, errors } = current as { code?: unknown; errors?: unknown };
    // SQLSTATE class 08: connection exceptions.
    if (typeof code === "string" && (FAILURE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return code;
    const inner = Array.isArray(errors) ? errors.map(connectionFailureCode).find((c) => c !== undefined) : undefined;
    if (inner !== undefined) return inner;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const FAILURE_CODES = new Set([
  // postgres.js: the connection was lost, or timed out while connecting. (Not CONNECTION_ENDED or
  // CONNECTION_DESTROYED: those follow our own end(), a pool closed on purpose, not an outage.)
  "CONNECT_TIMEOUT", "CONNECTION_CLOSED",
  // Node's sockets and name resolution.
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ENOTFOUND", "EAI_AGAIN",
  // SQLSTATE: the server shutting down or starting, out of connections, a statement or an idle
  // transaction over its timeout (db/client.ts sets both).
  "57P01", "57P02", "57P03", "53300", "57014", "25P03",
]);
