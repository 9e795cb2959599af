// SPEC §2 and §6: an imported key rotated with a grace period. Its old value (chosen elsewhere,
// without the key prefix) is looked up only while an imported secret lives, and must work for
// the grace period like any old secret — also when it is the only imported key.
import type { KeyFailureReason } from "../../src/errors.ts";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { databaseKinds } from "../helpers/databases.ts";
import { MANAGEMENT_LIMITS } from "../helpers/management.ts";
import { manualClock } from "../helpers/manual-clock.ts";
import { expectUnauthenticated } from "../helpers/refusals.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const GUARDED = "{ inventory { quantity } }";
const GRACE_SECONDS = 3600;

describe.each(databaseKinds)("rotating an imported key on %s", (kind) => {
  const clock = manualClock();
  let server: TestServer | undefined;
  let values = 0;
  // A server of its own per test: "is this the only imported key?" must hold as the test says.
  beforeEach(async () => {
    await server?.close();
    server = await startServer(kind, { clock, limits: MANAGEMENT_LIMITS });
  });
  afterAll(() => server?.close());

  async function importKey(): Promise<{ id: string; value: string }> {
    const user = await server!.app.users.createUser(CLI_PRINCIPAL, { email: `importer-${kind}-${++values}@example.com`, clientTypes: ["mobile"] });
    const value = `legacy-system-value-${kind}-${values}-0123456789`;
    const key = await server!.app.keys.importKey(CLI_PRINCIPAL, { value, userId: user.id, name: "imported", clientType: "mobile" });
    return { id: key.id, value };
  }
  const works = async (secret: string) => {
    const res = await server!.query(GUARDED, [apiKey(secret)]);
    return res.status === 200 && Array.isArray(res.json.data?.inventory);
  };
  const expectRefused = async (secret: string, reason: KeyFailureReason) => expectUnauthenticated(await server!.query(GUARDED, [apiKey(secret)]), reason);

  it("the only imported key, rotated with a grace period: its old value works until the grace period ends, then is malformed", async () => {
    const imported = await importKey();
    expect(await works(imported.value)).toBe(true);
    const { secret } = await server!.app.keys.rotateKey(CLI_PRINCIPAL, imported.id, GRACE_SECONDS);
    expect(await works(imported.value)).toBe(true);
    expect(await works(secret)).toBe(true);

    clock.advance(GRACE_SECONDS * 1000 - 1000);
    expect(await works(imported.value)).toBe(true);
    clock.advance(1001);
    // No imported secret lives any more: a non-prefixed string is not worth a look-up.
    await expectRefused(imported.value, "KEY_MALFORMED");
    await expectRefused("another-legacy-value-0000", "KEY_MALFORMED");
    expect(await works(secret)).toBe(true);
  });

  it("with another imported key still live, the old value after its grace period is revoked (looked up, refused)", async () => {
    await importKey();
    const rotated = await importKey();
    await server!.app.keys.rotateKey(CLI_PRINCIPAL, rotated.id, GRACE_SECONDS);
    expect(await works(rotated.value)).toBe(true);
    clock.advance(GRACE_SECONDS * 1000 + 1);
    await expectRefused(rotated.value, "KEY_REVOKED");
  });

  it("revoked during the grace period: the old value and the new secret stop at once", async () => {
    const imported = await importKey();
    const { secret } = await server!.app.keys.rotateKey(CLI_PRINCIPAL, imported.id, GRACE_SECONDS);
    expect(await works(imported.value)).toBe(true);
    await server!.app.keys.revokeKey(CLI_PRINCIPAL, imported.id);
    // The revoked key held the only imported secret: non-prefixed strings are malformed again.
    await expectRefused(imported.value, "KEY_MALFORMED");
    await expectRefused(secret, "KEY_REVOKED");
  });

  it("rotated with no grace period: the old value stops at once", async () => {
    const imported = await importKey();
    const { secret } = await server!.app.keys.rotateKey(CLI_PRINCIPAL, imported.id, 0);
    await expectRefused(imported.value, "KEY_MALFORMED");
    expect(await works(secret)).toBe(true);
  });

  it("rotated twice: the imported value stops when the second rotation ends its grace period", async () => {
    const imported = await importKey();
    await server!.app.keys.rotateKey(CLI_PRINCIPAL, imported.id, GRACE_SECONDS);
    expect(await works(imported.value)).toBe(true);
    const { secret } = await server!.app.keys.rotateKey(CLI_PRINCIPAL, imported.id, GRACE_SECONDS);
    // The second rotation leaves only the newest two secrets: the imported value is the third.
    await expectRefused(imported.value, "KEY_MALFORMED");
    expect(await works(secret)).toBe(true);
  });
});
