// Never log query parameters: real database failures over real HTTP (a trigger that repeats a
// value in its message, a check whose detail repeats the row, a usage flush that fails), and the
// server's log lines hold neither the values sent nor any part of the request body.
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../helpers/databases.ts";
import { ADMIN_SCOPES } from "../helpers/management.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

/** A value nobody else sends, so that finding it anywhere in the logs is a leak. */
const marked = (what: string) => `${what}-${randomBytes(6).toString("hex")}`;

describe.each(databaseKinds)("database failures in the logs on %s", (kind) => {
  let server: TestServer;
  let admin: { secret: string; keyId: string; userId: string };

  beforeAll(async () => {
    server = await startServer(kind);
    admin = await server.issueKey({ role: "ADMIN", scopes: ADMIN_SCOPES });
    for (const statement of [
      `create function refuse_marked() returns trigger language plpgsql as $$
       begin raise exception 'refused %, %', new.name, new.description; end $$`,
      "create trigger refuse_marked before insert on api_keys for each row when (new.name like 'leak-%') execute function refuse_marked()",
      "alter table users add constraint no_marked_names check (coalesce(name, '') not like 'Leaky-%')",
      `create function refuse_usage() returns trigger language plpgsql as $$
       begin raise exception 'no usage for key %', new.key_id; end $$`,
    ]) await server.app.database.db.execute(sql.raw(statement));
  });
  afterAll(() => server?.close());

  async function expectMaskedFailure(query: string, variables: Record<string, unknown>, field: string) {
    const res = await server.query(query, [apiKey(admin.secret)], variables);
    expect(res.json.errors).toEqual([expect.objectContaining({ message: "Internal server error", path: [field], extensions: { code: "INTERNAL_SERVER_ERROR" } })]);
    return res;
  }

  it("a failed insert's error line keeps the SQL and loses the values and the body", async () => {
    const name = marked("leak");
    const description = marked("description");
    const email = `${marked("owner")}@example.com`;
    const userName = marked("Leaky");
    const res1 = await expectMaskedFailure(
      "mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
      { input: { name, description, clientType: "mobile", scopes: ["orders:read"] } },
      "createApiKey",
    );
    const res2 = await expectMaskedFailure("mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }", { input: { email, name: userName } }, "createUser");
    for (const res of [res1, res2]) expect(res.text).not.toMatch(/Failed query|refused|no_marked_names/);
    await new Promise((r) => setTimeout(r, 50));

    const logs = server.logs();
    const errors = logs.split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ msg: "unexpected error in a GraphQL operation", path: ["createApiKey"], err: { type: "DrizzleQueryError", code: "P0001" } });
    expect(errors[0].err.message).toMatch(/^Failed query: insert into "api_keys" .*: refused \[REDACTED\], \[REDACTED\]$/s);
    expect(errors[1]).toMatchObject({ path: ["createUser"], err: { type: "DrizzleQueryError", code: "23514", constraint: "no_marked_names" } });
    for (const value of [name, description, email, userName, "orders:read", admin.userId]) expect(logs).not.toContain(value);
    // Nothing of the bodies either: no query text, no variable names.
    expect(logs).not.toMatch(/CreateApiKeyInput|mutation \(|"input"|"variables"/);
  });

  it("a failed usage flush is logged without the key ids it tried to write", async () => {
    await server.app.database.db.execute(sql.raw("create trigger refuse_usage before insert on key_usage for each row execute function refuse_usage()"));
    try {
      await server.query("{ me { apiKey { id } } }", [apiKey(admin.secret)]);
      await server.app.usage.flush();
      const line = server.logs().split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.msg === "usage flush failed; will retry");
      expect(line).toMatchObject({ level: 40, err: { type: "DrizzleQueryError", code: "P0001" } });
      expect(line.err.message).toContain("no usage for key [REDACTED]");
      expect(JSON.stringify(line)).not.toContain(admin.keyId);
    } finally {
      await server.app.database.db.execute(sql.raw("drop trigger refuse_usage on key_usage"));
    }
  });
});
