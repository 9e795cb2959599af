/**
 * Errors as log lines may show them: type, message and stack (with their causes), and a few
 * names that hold no data (SQLSTATE code, constraint, table, column), without any SQL parameter.
 *
 * pino's default serializer copies every enumerable property, and database errors carry the
 * values of the failed query: drizzle's DrizzleQueryError has `params` and writes them into its
 * message ("Failed query: … params: …"), PGlite's errors have `params`, postgres.js errors have
 * `parameters`, and PostgreSQL's `detail` repeats the row ("Failing row contains (…)"). Those are
 * emails, names and key hashes. So: a whitelist of properties, drizzle's message cut before its
 * parameters, and every parameter value found anywhere in the chain blanked out of each message.
 */
export function serializeError(error: unknown): unknown {
  if (!isErrorLike(error)) return error;
  const chain = causeChain(error);
  const secrets = parameterTexts(chain);
  const out: Record<string, unknown> = {
    type: typeName(error),
    message: chain.map((e) => scrubbedMessage(e, secrets)).join(": "),
    stack: chain.map((e) => scrubbedStack(e, secrets)).join("\ncaused by: "),
  };
  for (const [name, ...aliases] of KEPT) {
    const value = chain
      .flatMap((e) => [name, ...aliases].map((key) => (e as unknown as Record<string, unknown>)[key]))
      .find((v) => typeof v === "string" || typeof v === "number");
    if (value !== undefined) out[name] = value;
  }
  const aggregated = (error as { errors?: unknown }).errors;
  if (Array.isArray(aggregated)) out.aggregateErrors = aggregated.slice(0, 10).map(serializeError);
  return out;
}

/** An error's message (and its causes') as a person may read it: for the CLI and start-up failures. */
export function safeErrorMessage(error: unknown): string {
  const serialized = serializeError(error);
  return isErrorLike(serialized) ? serialized.message : withoutQueryParameters(String(error));
}

/**
 * Free text that may hold a stringified DrizzleQueryError (Apollo logs `${error}`): its
 * parameters run to the end of its message, which cannot be told apart from what follows, so
 * everything after `params:` goes.
 */
export function withoutQueryParameters(text: string): string {
  const at = text.indexOf(PARAMS_MARK);
  return at === -1 ? text : `${text.slice(0, at)}${PARAMS_MARK}${REDACTED}`;
}

const REDACTED = "[REDACTED]";
const PARAMS_MARK = "\nparams: ";
/**
 * Names that hold no data, kept from the first error in the chain that has them, under one name
 * whichever driver set them (PGlite: `constraint`, postgres.js: `constraint_name`).
 */
const KEPT = [["code"], ["severity"], ["constraint", "constraint_name"], ["table", "table_name"], ["column", "column_name"], ["errno"], ["syscall"]] as const;
/** Shorter values are blanked only where PostgreSQL quotes them: "x", 'x', (x). */
const MIN_FREE_LENGTH = 4;
const MAX_CHAIN = 10;

interface ErrorLike {
  message: string;
  name?: string;
  stack?: string;
}

function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string";
}

function typeName(error: ErrorLike): string {
  const ctor = (error as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" && ctor.name !== "Object" ? ctor.name : (error.name ?? "Error");
}

function causeChain(error: ErrorLike): ErrorLike[] {
  const chain: ErrorLike[] = [];
  for (let e: unknown = error; isErrorLike(e) && !chain.includes(e) && chain.length < MAX_CHAIN; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

/** Every parameter of every query in the chain, as the texts they may appear as. */
function parameterTexts(chain: ErrorLike[]): string[] {
  const texts = new Set<string>();
  for (const e of chain) {
    const holder = e as unknown as { params?: unknown; parameters?: unknown; args?: unknown };
    for (const list of [holder.params, holder.parameters, holder.args]) collectTexts(list, texts, 0);
  }
  texts.delete("");
  // Longest first, so that a value inside another is not blanked half-way.
  return [...texts].sort((a, b) => b.length - a.length);
}

function collectTexts(value: unknown, into: Set<string>, depth: number): void {
  if (depth > 4 || value === null || value === undefined) return;
  if (typeof value === "string") {
    into.add(value);
    // JSON parameters (audit changes) hold names and emails of their own.
    if (/^[[{]/.test(value)) {
      try {
        collectTexts(JSON.parse(value), into, depth + 1);
      } catch {
        // not JSON: the whole string is already in
      }
    }
    // Array literals ({a,b}) as drivers send text[].
    if (/^\{.*\}$/s.test(value)) for (const part of value.slice(1, -1).split(",")) into.add(part.replace(/^"|"$/g, ""));
  } else if (value instanceof Date) {
    if (!Number.isNaN(value.getTime())) into.add(value.toISOString());
  } else if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    into.add(Buffer.from(value).toString("hex"));
  } else if (Array.isArray(value)) {
    for (const item of value.slice(0, 1000)) collectTexts(item, into, depth + 1);
  } else if (typeof value === "object") {
    for (const item of Object.values(value).slice(0, 1000)) collectTexts(item, into, depth + 1);
  }
  // Numbers and booleans are limits, counts and switches: kept.
}

/** The error's own message: drizzle's cut before its parameters, then every parameter blanked. */
function scrubbedMessage(error: ErrorLike, secrets: string[]): string {
  return blank(ownMessage(error), secrets);
}

function ownMessage(error: ErrorLike): string {
  const { query, params } = error as unknown as { query?: unknown; params?: unknown };
  const drizzle = typeof query === "string" && `Failed query: ${query}`;
  if (drizzle && params !== undefined && error.message.startsWith(`${drizzle}${PARAMS_MARK}`)) return drizzle;
  return withoutQueryParameters(error.message);
}

/** The stack begins with the message as it was at construction: replaced by the scrubbed one. */
function scrubbedStack(error: ErrorLike, secrets: string[]): string {
  const stack = typeof error.stack === "string" ? error.stack : "";
  const message = scrubbedMessage(error, secrets);
  const at = error.message === "" ? -1 : stack.indexOf(error.message);
  if (at !== -1) return `${blank(stack.slice(0, at), secrets)}${message}${blank(stack.slice(at + error.message.length), secrets)}`;
  // The message changed since: keep the frames alone.
  const frames = stack.indexOf("\n    at ");
  return `${error.name ?? "Error"}: ${message}${frames === -1 ? "" : blank(stack.slice(frames), secrets)}`;
}

function blank(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= MIN_FREE_LENGTH) out = out.split(secret).join(REDACTED);
    else for (const [open, close] of QUOTES) out = out.split(`${open}${secret}${close}`).join(`${open}${REDACTED}${close}`);
  }
  return out;
}

const QUOTES = [['"', '"'], ["'", "'"], ["(", ")"]] as const;
