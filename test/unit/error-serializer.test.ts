// Errors in logs (src/error-serializer.ts, src/logger.ts): real database failures on PGlite (and
// PostgreSQL when TEST_DATABASE_URL is set), through drizzle and through the raw drivers.
import { Writable } from "node:stream";
import postgres from "postgres";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { users } from "../../src/db/schema/index.ts";
import { safeErrorMessage, serializeError, withoutQueryParameters } from "../../src/error-serializer.ts";
import { createLogger } from "../../src/logger.ts";
import { databaseKinds, freshDatabase, type TestDatabase } from "../helpers/databases.ts";

const EMAIL = "grace.hopper.secret@example.com";
const NAME = "Grace Brewster Murray Hopper";

/** What a logger at trace level wrote, one parsed object per line. */
function capture() {
  const lines: string[] = [];
  const logger = createLogger("trace", new Writable({ write: (chunk, _e, done) => void (lines.push(String(chunk)), done()) }));
  return { logger, text: () => lines.join(""), records: () => lines.map((l) => JSON.parse(l) as Record<string, any>) };
}

async function failure(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the query to fail");
}

describe.each(databaseKinds)("database errors in logs on %s", (kind) => {
  let test: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    test = await freshDatabase(kind);
    database = await openDatabase(test.options);
    await database.migrate();
    // A failure whose own message repeats a value, and one whose detail repeats the row.
    for (const statement of [
      `create function refuse_grace() returns trigger language plpgsql as $$
       begin
         if new.name like 'Grace%' then raise exception 'refused user %', new.email; end if;
         return new;
       end $$`,
      "create trigger refuse_grace before insert on users for each row execute function refuse_grace()",
      "alter table users add constraint no_hopper check (coalesce(name, '') not like '%Hopper-check%')",
    ]) await database.db.execute(sql.raw(statement));
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  it("a drizzle query error keeps its SQL, type, cause and stack, and loses every parameter", async () => {
    const error = await failure(() => database.db.insert(users).values({ email: EMAIL, name: NAME, role: "MEMBER", clientTypes: ["mobile"] }));
    // What pino's own serializer would have written: the values, in message and stack.
    expect(`${error.message}${error.stack}`).toContain(EMAIL);
    const serialized = serializeError(error) as Record<string, unknown>;
    const text = JSON.stringify(serialized);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain(NAME);
    expect(serialized).toMatchObject({ type: "DrizzleQueryError", code: "P0001" });
    expect(serialized.message).toMatch(/^Failed query: insert into "users" \(.*\) values \(.*\): refused user \[REDACTED\]$/s);
    expect(serialized.stack).toMatch(/^Error: Failed query: insert into "users"/);
    expect(serialized.stack).toMatch(/\n {4}at /);
    expect(serialized.stack).toContain("\ncaused by: ");
    // A whitelist: no params, query, detail or driver options.
    expect(Object.keys(serialized).sort()).toEqual(["code", "message", "severity", "stack", "type"]);
  });

  it("a check violation's detail (the whole row) is not kept", async () => {
    const name = "Ada Hopper-check";
    const error = await failure(() => database.db.insert(users).values({ email: "ada.detail@example.com", name, role: "MEMBER", clientTypes: [] }));
    const text = JSON.stringify(serializeError(error));
    expect(text).toContain("no_hopper");
    expect(text).not.toContain("ada.detail@example.com");
    expect(text).not.toContain(name);
  });

  it("the logger writes such an error under err or error, and on its own, without the values", async () => {
    const error = await failure(() => database.db.insert(users).values({ email: EMAIL, name: NAME, role: "MEMBER", clientTypes: [] }));
    const log = capture();
    log.logger.error({ err: error, path: ["createUser"] }, "unexpected error in a GraphQL operation");
    log.logger.warn({ error }, "usage flush failed; will retry");
    log.logger.error(error);
    log.logger.child({ component: "apollo" }).error(`Unexpected error processing request: ${error}`);
    const records = log.records();
    expect(records).toHaveLength(4);
    expect(log.text()).not.toContain(EMAIL);
    expect(log.text()).not.toContain(NAME);
    expect(records[0]!.err.type).toBe("DrizzleQueryError");
    expect(records[1]!.error.type).toBe("DrizzleQueryError");
    expect(records[2]!.msg).toMatch(/^Failed query: insert into "users"/);
    expect(records[3]!.msg).toMatch(/^Unexpected error processing request: Error: Failed query: insert into "users" .*\nparams: \[REDACTED\]$/s);
  });

  it("the driver's own error (no drizzle) loses its parameters too", async () => {
    const raw = await failure(async () => {
      if (kind === "postgres") {
        const client = postgres(test.options.databaseUrl!, { max: 1, onnotice: () => {} });
        try {
          await client`insert into users (email, name) values (${EMAIL}, ${NAME})`;
        } finally {
          await client.end();
        }
      } else {
        const { PGlite } = await import("@electric-sql/pglite");
        const client = await PGlite.create();
        try {
          await client.query("select $1::uuid", [EMAIL]);
        } finally {
          await client.close();
        }
      }
    });
    expect(JSON.stringify(serializeError(raw))).not.toContain(EMAIL);
    expect(safeErrorMessage(raw)).not.toContain(EMAIL);
  });
});

describe("serializeError", () => {
  it("blanks short parameters only where PostgreSQL quotes them, and keeps numbers", () => {
    const error = Object.assign(new Error('invalid input syntax for type uuid: "abc" near (xy) at 42'), { params: ["abc", "xy", 42, "a"] });
    const serialized = serializeError(error) as { message: string; stack: string };
    expect(serialized.message).toBe('invalid input syntax for type uuid: "[REDACTED]" near ([REDACTED]) at 42');
    expect(serialized.stack.split("\n")[0]).toBe('Error: invalid input syntax for type uuid: "[REDACTED]" near ([REDACTED]) at 42');
  });

  it("finds values inside JSON and array parameters, and in causes", () => {
    const cause = Object.assign(new Error("violates: Failing row contains (ada@example.com, {mobile,partner-secret})"), { code: "23514" });
    const error = Object.assign(new Error("Failed query: insert\nparams: x", { cause }), {
      query: "insert",
      params: [JSON.stringify({ email: "ada@example.com" }), "{mobile,partner-secret}"],
    });
    const serialized = serializeError(error) as Record<string, string>;
    expect(serialized.message).toBe("Failed query: insert: violates: Failing row contains ([REDACTED], [REDACTED])");
    expect(serialized.code).toBe("23514");
    expect(JSON.stringify(serialized)).not.toMatch(/ada@|partner-secret/);
  });

  it("survives cycles, odd values and errors without a stack", () => {
    const a: Error & { cause?: unknown } = new Error("a");
    a.cause = a;
    expect((serializeError(a) as { message: string }).message).toBe("a");
    expect(serializeError("just text")).toBe("just text");
    expect(serializeError({ message: "like an error" })).toMatchObject({ type: "Error", message: "like an error", stack: "Error: like an error" });
    expect(withoutQueryParameters("no parameters here")).toBe("no parameters here");
  });
});
