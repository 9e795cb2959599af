// No escalation through management: a weak key must not rotate (and so obtain), change or revoke a stronger key of its owner.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../helpers/databases.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

describe.each(databaseKinds)("a weaker key and a stronger key of one user on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(kind);
  });
  afterAll(() => server?.close());

  async function pair() {
    const email = `pair${Math.random().toString(36).slice(2)}@example.com`;
    const weak = await server.issueKey({ email, scopes: ["keys:self"] });
    const strong = await server.issueKey({ email, scopes: ["keys:self", "orders:read"] });
    return { weak, strong };
  }

  it("the weaker key cannot rotate the stronger one, and gets no secret", async () => {
    const { weak, strong } = await pair();
    const res = await server.query(`mutation ($id: ID!) { rotateApiKey(id: $id) { secret } }`, [apiKey(weak.secret)], { id: strong.keyId });
    expect(res.json).toEqual({
      data: null,
      errors: [
        expect.objectContaining({
          path: ["rotateApiKey"],
          extensions: { code: "FORBIDDEN", reason: "KEY_NOT_MANAGEABLE", field: "id" },
        }),
      ],
    });
    expect((await server.query("{ me { apiKey { id } } }", [apiKey(strong.secret)])).status).toBe(200); // untouched
  });

  it("the weaker key cannot update the stronger one", async () => {
    const { weak, strong } = await pair();
    const res = await server.query(`mutation ($id: ID!) { updateApiKey(id: $id, input: { active: false }) { active } }`, [apiKey(weak.secret)], { id: strong.keyId });
    expect(res.json.errors[0].extensions).toEqual({ code: "FORBIDDEN", reason: "KEY_NOT_MANAGEABLE", field: "id" });
    expect((await server.query("{ me { apiKey { active } } }", [apiKey(strong.secret)])).json.data.me.apiKey.active).toBe(true);
  });

  it("the stronger key can rotate the weaker one; the weaker cannot revoke the stronger (it would take away what it lacks)", async () => {
    const { weak, strong } = await pair();
    const rotated = await server.query(`mutation ($id: ID!) { rotateApiKey(id: $id) { secret apiKey { scopes } } }`, [apiKey(strong.secret)], { id: weak.keyId });
    expect(rotated.json.data.rotateApiKey.apiKey.scopes).toEqual(["keys:self"]);
    const revoked = await server.query(`mutation ($id: ID!) { revokeApiKey(id: $id) { status } }`, [apiKey(rotated.json.data.rotateApiKey.secret)], { id: strong.keyId });
    expect(revoked.json.errors[0].extensions).toEqual({ code: "FORBIDDEN", reason: "KEY_NOT_MANAGEABLE", field: "id" });
    expect((await server.query("{ me { apiKey { status } } }", [apiKey(strong.secret)])).json.data.me.apiKey.status).toBe("ACTIVE");
    // The stronger key may revoke the weaker.
    const down = await server.query(`mutation ($id: ID!) { revokeApiKey(id: $id) { status } }`, [apiKey(strong.secret)], { id: weak.keyId });
    expect(down.json.data.revokeApiKey.status).toBe("REVOKED");
  });
});
