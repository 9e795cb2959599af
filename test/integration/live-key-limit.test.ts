// SPEC §6 "more than the per-user key limit" under races and over time: parallel creations, and
// an admin bringing expired keys back, never leave a user with more live keys than the limit.
// Races are real on PostgreSQL (PGlite serialises everything, so there it holds trivially).
import { and, eq, gt, isNull, or } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { apiKeys } from "../../src/db/schema/index.ts";
import { databaseKinds } from "../helpers/databases.ts";
import type { HttpResponse } from "../helpers/http.ts";
import { ADMIN_SCOPES, MANAGEMENT_LIMITS } from "../helpers/management.ts";
import { manualClock } from "../helpers/manual-clock.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const LIMIT = 10;
const PARALLEL = 60;
const MINUTE = 60_000;
const CREATE = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }";
const UPDATE = "mutation($id: ID!, $input: UpdateApiKeyInput!) { updateApiKey(id: $id, input: $input) { id status } }";

describe.each(databaseKinds)("the per-user live-key limit under races on %s", (kind) => {
  const clock = manualClock();
  let server: TestServer;
  let admin: { secret: string };
  let users = 0;
  beforeAll(async () => {
    server = await startServer(kind, { clock, limits: { ...MANAGEMENT_LIMITS, maxKeysPerUser: LIMIT } });
    admin = await server.issueKey({ email: `limit-race-admin-${kind}@example.com`, role: "ADMIN", scopes: ADMIN_SCOPES });
  });
  afterAll(() => server?.close());

  const newUser = async () =>
    (await server.app.users.createUser(CLI_PRINCIPAL, { email: `limit-race-${kind}-${++users}@example.com`, clientTypes: ["mobile"] })).id;
  const create = (userId: string) => server.query(CREATE, [apiKey(admin.secret)], { input: { userId, name: "parallel", clientType: "mobile" } });
  const revive = (id: string) => server.query(UPDATE, [apiKey(admin.secret)], { id, input: { expiresAt: null } });
  async function liveKeys(userId: string): Promise<number> {
    const at = new Date(clock.now());
    const rows = await server.app.database.db
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, at))));
    return rows.length;
  }
  /** Keys of the user that expired a moment ago (issued to expire in a minute, then the clock moves two). */
  async function expiredKeys(userId: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { apiKey: key } = await server.app.keys.createKey(CLI_PRINCIPAL, { userId, name: "expiring", clientType: "mobile", expiresAt: new Date(clock.now() + MINUTE) });
      ids.push(key.id);
    }
    clock.advance(2 * MINUTE);
    return ids;
  }

  it(`${PARALLEL} parallel createApiKey calls for one user: exactly ${LIMIT} succeed, the rest are BAD_USER_INPUT on userId`, async () => {
    const userId = await newUser();
    const answers = await Promise.all(Array.from({ length: PARALLEL }, () => create(userId)));
    const outcome = tally(answers);
    console.info(`${kind}: ${JSON.stringify(outcome)}, ${await liveKeys(userId)} live`);
    expect(outcome).toEqual({ created: LIMIT, "BAD_USER_INPUT userId": PARALLEL - LIMIT });
    expect(await liveKeys(userId)).toBe(LIMIT);
  });

  it("at the limit, an admin cannot bring an expired key back (BAD_USER_INPUT on expiresAt, nothing changed); below it, they can", async () => {
    const userId = await newUser();
    const [expired] = await expiredKeys(userId, 1);
    for (let i = 0; i < LIMIT; i++) expect((await create(userId)).json.errors).toBeUndefined();
    const refused = await revive(expired!);
    expect(refused.json).toEqual({
      data: null,
      errors: [expect.objectContaining({ path: ["updateApiKey"], extensions: { code: "BAD_USER_INPUT", field: "expiresAt" } })],
    });
    expect(refused.json.errors[0].message).toBe(`This user already holds the maximum of ${LIMIT} live keys.`);
    expect((await server.app.database.db.select().from(apiKeys).where(eq(apiKeys.id, expired!)))[0]!.expiresAt).not.toBeNull();
    // Moving the expiry to the future revives it just as well, and is refused just as well.
    const later = await server.query(UPDATE, [apiKey(admin.secret)], { id: expired, input: { expiresAt: new Date(clock.now() + 3_600_000).toISOString() } });
    expect(later.json.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT", field: "expiresAt" });
    // Other changes to an expired key are not revivals.
    expect((await server.query(UPDATE, [apiKey(admin.secret)], { id: expired, input: { name: "renamed" } })).json.errors).toBeUndefined();

    const { apiKey: one } = (await create(userId)).json.data?.createApiKey ?? { apiKey: null };
    expect(one).toBeNull();
    const live = (await server.app.database.db.select({ id: apiKeys.id }).from(apiKeys).where(and(eq(apiKeys.userId, userId), isNull(apiKeys.expiresAt))))[0]!;
    await server.app.keys.revokeKey(CLI_PRINCIPAL, live.id);
    expect((await revive(expired!)).json.data.updateApiKey.status).toBe("ACTIVE");
    expect(await liveKeys(userId)).toBe(LIMIT);
  });

  it(`revivals and creations racing: ${LIMIT / 2} live and ${LIMIT} expired keys, ${LIMIT} revivals and ${LIMIT} creations at once end at exactly ${LIMIT} live`, async () => {
    const userId = await newUser();
    const expired = await expiredKeys(userId, LIMIT);
    for (let i = 0; i < LIMIT / 2; i++) expect((await create(userId)).json.errors).toBeUndefined();
    const answers = await Promise.all([...expired.map((id) => revive(id)), ...Array.from({ length: LIMIT }, () => create(userId))]);
    const outcome = tally(answers);
    console.info(`${kind}: ${JSON.stringify(outcome)}, ${await liveKeys(userId)} live`);
    expect(await liveKeys(userId)).toBe(LIMIT);
    const succeeded = (outcome.created ?? 0) + (outcome.revived ?? 0);
    expect(succeeded).toBe(LIMIT / 2);
    expect((outcome["BAD_USER_INPUT userId"] ?? 0) + (outcome["BAD_USER_INPUT expiresAt"] ?? 0)).toBe(2 * LIMIT - LIMIT / 2);
  });
});

/** How each answer ended: created, revived, or the refusal's code and field. */
function tally(answers: HttpResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const res of answers) {
    expect(res.status, res.text).toBe(200);
    const error = res.json.errors?.[0];
    const what = error ? `${error.extensions.code} ${error.extensions.field}` : res.json.data.createApiKey ? "created" : "revived";
    counts[what] = (counts[what] ?? 0) + 1;
  }
  return counts;
}
