// SPEC §6 "No escalation, in any dimension", as a property: whatever a member does through
// self-service, with whichever of their keys, no key they can obtain or alter ever holds more
// than the key that made or changed it — in scopes, client type, expiry or rate limit — an
// admin's switch-off sticks, and an expired key stays expired. Checked after every step against
// the database, with the rules written out here independently of src/keys/key-permissions.ts.
import { randomUUID } from "node:crypto";
import { eq, inArray } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import { apiKeys, keySecrets, users, type ApiKeyRow } from "../../src/db/schema/index.ts";
import { hashKey } from "../../src/keys/key-format.ts";
import { databaseKinds, type DatabaseKind } from "../helpers/databases.ts";
import { manualClock } from "../helpers/manual-clock.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

/** What the member's user may give their keys (set by an admin). */
const MEMBER_CLIENT_TYPES = ["mobile", "partner"];
/** Scopes a starting key may hold besides keys:self (keys:admin never goes to a MEMBER's key). */
const GRANTABLE = ["orders:read", "orders:write", "reports:read", "suppliers:read"];
/** What the member asks for: the pool, keys:admin, and names nobody holds (one of them malformed). */
const ASKED_SCOPES = ["keys:self", ...GRANTABLE, "keys:admin", "billing:write", "admin", "keys:*"];
const ASKED_CLIENT_TYPES = ["mobile", "partner", "backoffice", "admin"];
/** Starting keys may also be of a type the member may not give (an admin issued it). */
const START_CLIENT_TYPES = [...MEMBER_CLIENT_TYPES, "backoffice"];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
type Policy = { limit: number; windowSeconds: number };
/** The server default in this suite: some policies below are above it, some below. */
const DEFAULT_POLICY: Policy = { limit: 100, windowSeconds: 60 };
/**
 * Limits high enough that no key meets its own limit within a run (a run uses a key ~10 times),
 * with the traps: same rate in shorter windows (45 / 54 s), same rate with a bigger burst
 * (1000 / 6000 s), and absurd (1,000,000 / 1 s).
 */
const POLICIES: Policy[] = [
  { limit: 20, windowSeconds: 60 }, { limit: 50, windowSeconds: 60 }, { limit: 45, windowSeconds: 54 }, { limit: 50, windowSeconds: 600 },
  { limit: 100, windowSeconds: 60 }, { limit: 200, windowSeconds: 60 }, { limit: 1000, windowSeconds: 6000 }, { limit: 1_000_000, windowSeconds: 1 },
];

/** Runs per database: PostgreSQL round trips are slower than in-memory PGlite. */
const NUM_RUNS: Record<DatabaseKind, number> = { pglite: 100, postgres: 60 };

type OtherUser = "self" | "another member" | "an admin" | "nobody";

/**
 * Scopes a call asks for: some of those the calling key holds now (`keep`, by position), plus
 * `extra` names from ASKED_SCOPES (often none, so that many calls are ones that may succeed).
 */
interface AskedScopes {
  keep: boolean[];
  extra: string[];
}
/** An expiry a call gives: absent, none, the calling key's own (and just past it), or from now. */
type AskedExpiry = "absent" | "never" | "caller's" | "just after caller's" | number;
/** A rate limit a call gives: absent, the server default, the calling key's (and just past it), or one of POLICIES. */
type AskedRateLimit = "absent" | "default" | "caller's" | "caller's limit + 1" | "caller's window - 1" | number;

type Target = number | "itself" | "an expired or switched-off key" | "another user's key";
type Step =
  | { kind: "create"; caller: number; scopes: AskedScopes; clientType: string; userId: OtherUser | null; expiry: AskedExpiry; rateLimit: AskedRateLimit }
  | { kind: "update"; caller: number; target: Target; scopes: AskedScopes | null; clientType: string | null; expiry: AskedExpiry; rateLimit: AskedRateLimit; active: boolean | null }
  | { kind: "rotate"; caller: number; target: Target; grace: number }
  | { kind: "revoke"; caller: number; target: Target };

const keyIndex = fc.nat({ max: 20 });
const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 5, arbitrary: keyIndex },
  { weight: 2, arbitrary: fc.constant("itself" as const) },
  { weight: 1, arbitrary: fc.constant("another user's key" as const) },
);
const askedScopes: fc.Arbitrary<AskedScopes> = fc.record({
  keep: fc.array(fc.boolean(), { minLength: ASKED_SCOPES.length, maxLength: ASKED_SCOPES.length }),
  extra: fc.oneof({ weight: 4, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.subarray(ASKED_SCOPES, { minLength: 1 }) }),
});
const clientType = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...MEMBER_CLIENT_TYPES) }, { weight: 1, arbitrary: fc.constantFrom(...ASKED_CLIENT_TYPES) });
// Often absent, so that calls that may succeed are common; the traps at the caller's own bound.
const askedExpiry: fc.Arbitrary<AskedExpiry> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<AskedExpiry>("absent") },
  { weight: 2, arbitrary: fc.constantFrom<AskedExpiry>("never", "caller's", "just after caller's") },
  { weight: 2, arbitrary: fc.constantFrom(10 * MINUTE, 2 * HOUR, 2 * DAY, 60 * DAY) },
);
const askedRateLimit: fc.Arbitrary<AskedRateLimit> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<AskedRateLimit>("absent") },
  { weight: 2, arbitrary: fc.constantFrom<AskedRateLimit>("default", "caller's", "caller's limit + 1", "caller's window - 1") },
  { weight: 2, arbitrary: fc.nat({ max: POLICIES.length - 1 }) },
);
/** Mostly no userId (the member's own); sometimes themselves or someone else by id. */
const askedUser = fc.oneof(
  { weight: 5, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom<OtherUser>("self", "another member", "an admin", "nobody") },
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({
    kind: fc.constant("create" as const), caller: keyIndex, scopes: askedScopes, clientType,
    userId: askedUser,
    expiry: askedExpiry, rateLimit: askedRateLimit,
  }) },
  { weight: 3, arbitrary: fc.record({
    kind: fc.constant("update" as const), caller: keyIndex, target,
    scopes: fc.option(askedScopes, { nil: null }), clientType: fc.option(clientType, { nil: null, freq: 3 }),
    expiry: askedExpiry, rateLimit: askedRateLimit, active: fc.option(fc.boolean(), { nil: null, freq: 2 }),
  }) },
  // An update that tries to bring a key back: switch it on, give it a new expiry (or none).
  { weight: 2, arbitrary: fc.record({
    kind: fc.constant("update" as const), caller: keyIndex, target: fc.constant<Target>("an expired or switched-off key"), scopes: fc.constant(null), clientType: fc.constant(null),
    expiry: fc.constantFrom<AskedExpiry>("never", "caller's", 10 * MINUTE), rateLimit: fc.constant<AskedRateLimit>("absent"), active: fc.constant(true),
  }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("rotate" as const), caller: keyIndex, target, grace: fc.constantFrom(0, 600, 7200) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("revoke" as const), caller: keyIndex, target }) },
);

/** A key an admin issues the member before they start. */
const startKey = fc.record({
  scopes: fc.subarray(GRANTABLE).map((s) => ["keys:self", ...s]),
  clientType: fc.constantFrom(...START_CLIENT_TYPES),
  expiresIn: fc.option(fc.constantFrom<number | "expired">(HOUR, DAY, 30 * DAY, "expired", "expired"), { nil: null, freq: 2 }),
  rateLimit: fc.option(fc.nat({ max: POLICIES.length - 1 }), { nil: null, freq: 2 }),
  switchedOffByAdmin: fc.boolean(),
  /** Scopes, client type and rate limit as the first key's: a sibling the first key may manage. */
  likeFirst: fc.boolean(),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;
const scenario = fc.record({
  /** The first works (the member's way in); the others may be expired or switched off by an admin. */
  startKeys: fc.array(startKey, { minLength: 1, maxLength: 3 }),
  /**
   * The first key was issued with keys:admin while its owner was ADMIN, then the owner was
   * demoted (now and then: such a key can manage no key that holds keys:admin, itself included).
   */
  demoted: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  steps: fc.array(step, { minLength: 1, maxLength: 8 }),
});

/**
 * Run first, then the random ones: a member whose siblings are expired and switched off by an
 * admin tries to bring both back (so that those refusals are always met, not only by luck).
 */
const REVIVAL_EXAMPLE: Scenario = (() => {
  const sibling = { scopes: ["keys:self"], clientType: "mobile", rateLimit: null, likeFirst: true };
  const revive = (caller: number): Step => ({
    kind: "update", caller, target: "an expired or switched-off key", scopes: null, clientType: null, expiry: "never", rateLimit: "absent", active: true,
  });
  return {
    startKeys: [
      { ...sibling, expiresIn: null, switchedOffByAdmin: false },
      { ...sibling, expiresIn: "expired", switchedOffByAdmin: false },
      { ...sibling, expiresIn: null, switchedOffByAdmin: true },
    ],
    demoted: false,
    steps: [revive(0), revive(1), { ...revive(1), expiry: "absent" }],
  };
})();
const CREATE = "mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }";
const UPDATE = "mutation ($id: ID!, $input: UpdateApiKeyInput!) { updateApiKey(id: $id, input: $input) { id } }";
const ROTATE = "mutation ($id: ID!, $grace: Int) { rotateApiKey(id: $id, gracePeriodSeconds: $grace) { secret apiKey { id } } }";
const REVOKE = "mutation ($id: ID!) { revokeApiKey(id: $id) { id } }";

/** Refusals a self-service call may meet; anything else (a 500, a 401 for a working key) fails the property. */
const EXPECTED_REFUSALS = new Set(["BAD_USER_INPUT", "FORBIDDEN", "NOT_FOUND"]);

/** What a calling key holds, in every dimension (expiry: when the presented secret stops). */
interface Powers {
  scopes: Set<string>;
  clientType: string;
  expiresAt: number | null;
  rateLimit: Policy;
}

describe.each(databaseKinds)("no escalation through self-service on %s", (kind) => {
  const clock = manualClock();
  let server: TestServer;
  let others: Record<Exclude<OtherUser, "self">, string>;
  let othersKey: ApiKeyRow;
  let members = 0;
  const tally = { calls: 0, succeeded: { create: 0, update: 0, rotate: 0, revoke: 0 }, byMadeKeys: 0, reasons: new Map<string, number>() };

  beforeAll(async () => {
    server = await startServer(kind, { clock, limits: { failedAuth: { limit: 10_000, windowSeconds: 60 }, rateLimit: DEFAULT_POLICY } });
    const member = await server.issueKey({ email: "other-member@example.com", clientType: "backoffice", scopes: ["keys:self", "orders:read"] });
    const admin = await server.issueKey({ email: "other-admin@example.com", role: "ADMIN", clientType: "admin", scopes: ["keys:admin", "keys:self"] });
    // The other member may use every client type the member asks for: only the owner's list may decide.
    await server.app.users.updateUser(CLI_PRINCIPAL, member.userId, { clientTypes: ASKED_CLIENT_TYPES });
    others = { "another member": member.userId, "an admin": admin.userId, nobody: randomUUID() };
    othersKey = await server.app.keys.getKey(CLI_PRINCIPAL, member.keyId);
  });
  afterAll(() => server?.close());

  it("no sequence of self-service calls yields or alters a key beyond its caller in any dimension; admin switch-offs and expiries stick", { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ startKeys, demoted, steps }) => {
        const db = server.app.database.db;
        const existing = new Set((await db.select({ id: apiKeys.id }).from(apiKeys)).map((r) => r.id));
        const othersBefore = await db.select().from(apiKeys).where(inArray(apiKeys.userId, [others["another member"], others["an admin"]]));

        // A fresh member and the keys an admin issued them, through the services.
        const user = await server.app.users.createUser(CLI_PRINCIPAL, {
          email: `member-${kind}-${++members}@example.com`, role: demoted ? "ADMIN" : "MEMBER", clientTypes: MEMBER_CLIENT_TYPES,
        });
        /** Every secret the member holds, in the order they got them. */
        const secrets: { keyId: string; secret: string }[] = [];
        const startIds = new Set<string>();
        for (const [i, own] of startKeys.entries()) {
          const first = i === 0;
          const k = own.likeFirst ? { ...own, scopes: startKeys[0]!.scopes, clientType: startKeys[0]!.clientType, rateLimit: startKeys[0]!.rateLimit } : own;
          const expiresIn = first && k.expiresIn === "expired" ? null : k.expiresIn;
          const issued = await server.app.keys.createKey(CLI_PRINCIPAL, {
            userId: user.id, name: `start ${i}`, clientType: k.clientType,
            scopes: first && demoted ? [...k.scopes, "keys:admin"] : k.scopes,
            expiresAt: expiresIn === null ? null : new Date(clock.now() + (expiresIn === "expired" ? MINUTE : expiresIn)),
            rateLimit: k.rateLimit === null ? null : POLICIES[k.rateLimit]!,
          });
          if (!first && k.switchedOffByAdmin) await server.app.keys.updateKey(CLI_PRINCIPAL, issued.apiKey.id, { active: false });
          secrets.push({ keyId: issued.apiKey.id, secret: issued.secret });
          startIds.add(issued.apiKey.id);
        }
        if (demoted) await server.app.users.updateUser(CLI_PRINCIPAL, user.id, { role: "MEMBER" });
        clock.advance(2 * MINUTE); // the "expired" starting keys are now expired

        const memberKeys = async () => new Map((await db.select().from(apiKeys).where(eq(apiKeys.userId, user.id))).map((k) => [k.id, k]));
        const secretExpiry = async (secret: string) =>
          (await db.select({ expiresAt: keySecrets.expiresAt }).from(keySecrets).where(eq(keySecrets.hash, hashKey(secret, undefined))))[0]?.expiresAt?.getTime() ?? null;

        for (const s of steps) {
          const now = clock.now();
          const before = await memberKeys();
          // The caller: one of the member's secrets that works now (by this test's own reading).
          const working = [];
          for (const held of secrets) {
            const key = before.get(held.keyId)!;
            const until = await secretExpiry(held.secret);
            if (worksAt(key, until, now)) working.push({ ...held, key, until });
          }
          if (working.length === 0) break;
          const caller = working[s.caller % working.length]!;
          const powers = powersOf(caller.key, caller.until);
          const ids = [...before.keys()];
          const dead = ids.filter((id) => !before.get(id)!.revokedAt && !worksAt(before.get(id)!, null, now));
          const targetId =
            s.kind === "create" ? null
            : s.target === "another user's key" ? othersKey.id
            : s.target === "itself" ? caller.keyId
            : s.target === "an expired or switched-off key" ? (dead[s.caller % Math.max(1, dead.length)] ?? caller.keyId)
            : ids[s.target % ids.length]!;
          const scopesOf = (asked: AskedScopes) => [...caller.key.scopes.filter((_, i) => asked.keep[i % asked.keep.length]), ...asked.extra];

          let res;
          if (s.kind === "create") {
            const userId = s.userId === null ? undefined : s.userId === "self" ? user.id : others[s.userId];
            res = await server.query(CREATE, [apiKey(caller.secret)], {
              input: {
                name: "made", clientType: s.clientType, scopes: scopesOf(s.scopes), ...(userId ? { userId } : {}),
                ...expiryInput(s.expiry, powers, now), ...rateLimitInput(s.rateLimit, powers),
              },
            });
          } else if (s.kind === "update") {
            const input = {
              ...(s.scopes ? { scopes: scopesOf(s.scopes) } : {}), ...(s.clientType ? { clientType: s.clientType } : {}),
              ...expiryInput(s.expiry, powers, now), ...rateLimitInput(s.rateLimit, powers), ...(s.active !== null ? { active: s.active } : {}),
            };
            res = await server.query(UPDATE, [apiKey(caller.secret)], { id: targetId, input });
          } else if (s.kind === "rotate") {
            res = await server.query(ROTATE, [apiKey(caller.secret)], { id: targetId, grace: s.grace });
          } else {
            res = await server.query(REVOKE, [apiKey(caller.secret)], { id: targetId });
          }
          tally.calls++;
          if (!startIds.has(caller.keyId)) tally.byMadeKeys++;
          expect(res.status, res.text).toBe(200);
          for (const error of res.json.errors ?? []) {
            expect(EXPECTED_REFUSALS, res.text).toContain(error.extensions?.code);
            const reason = error.extensions?.reason ?? error.extensions?.code;
            tally.reasons.set(reason, (tally.reasons.get(reason) ?? 0) + 1);
          }
          const after = await memberKeys();

          // Whatever happened: what an admin switched off stays off, what expired stays expired,
          // keys:admin stays where an admin put it, and no key changes hands.
          for (const [id, was] of before) {
            const now_ = after.get(id)!;
            expect(now_.userId).toBe(user.id);
            if (was.switchedOffBy === "ADMIN") expect(now_, "an admin's switch-off was undone").toMatchObject({ active: false, switchedOffBy: "ADMIN" });
            if (was.expiresAt && was.expiresAt.getTime() <= now) expect(now_.expiresAt, "an expired key was brought back").toEqual(was.expiresAt);
            if (now_.scopes.includes("keys:admin")) expect(demoted && startIds.has(id) && was.scopes.includes("keys:admin")).toBe(true);
          }
          if (res.json.errors) {
            // A refusal changes nothing.
            expect(stable(after)).toEqual(stable(before));
            continue;
          }
          tally.succeeded[s.kind]++;

          // Success: the key made or managed holds nothing the caller lacks, before and after.
          if (s.kind === "create") {
            const made = res.json.data.createApiKey;
            const key = after.get(made.apiKey.id);
            expect(key, "a key was issued to someone else").toBeDefined();
            expectWithin(key!, powers, "created");
            expect(MEMBER_CLIENT_TYPES).toContain(key!.clientType);
            expect(key).toMatchObject({ active: true, switchedOffBy: null, revokedAt: null });
            secrets.push({ keyId: key!.id, secret: made.secret });
            expect(after.size).toBe(before.size + 1);
          } else {
            const was = before.get(targetId!);
            expect(was, "another user's key was managed").toBeDefined();
            const key = after.get(targetId!)!;
            if (was!.revokedAt) {
              // Only revoke succeeds on a revoked key, idempotently: nothing is managed.
              expect(s.kind).toBe("revoke");
              expect(key).toEqual(was);
              continue;
            }
            expectWithin(was!, powers, `${s.kind}d (before)`);
            expectWithin(key, powers, `${s.kind}d (after)`);
            if (key.clientType !== was!.clientType) expect(MEMBER_CLIENT_TYPES).toContain(key.clientType);
            if (s.kind === "update" && s.active === true && key.active) expect(was!.switchedOffBy).not.toBe("ADMIN");
            if (s.kind === "rotate") {
              expect(was!.expiresAt === null || was!.expiresAt.getTime() > now, "an expired key was rotated").toBe(true);
              secrets.push({ keyId: key.id, secret: res.json.data.rotateApiKey.secret });
            }
          }
        }

        // Other users' keys are exactly as they were; nobody else got a key.
        const all = await db.select().from(apiKeys);
        for (const key of all.filter((k) => !existing.has(k.id))) expect(key.userId).toBe(user.id);
        const othersAfter = all.filter((k) => k.userId === others["another member"] || k.userId === others["an admin"]);
        expect(sortById(othersAfter)).toEqual(sortById(othersBefore));
        const [owner] = await db.select().from(users).where(eq(users.id, user.id));
        expect(owner).toMatchObject({ role: "MEMBER", clientTypes: MEMBER_CLIENT_TYPES, disabled: false });
      }),
      { numRuns: NUM_RUNS[kind], examples: [[REVIVAL_EXAMPLE]] },
    );
    // Not vacuous: every operation succeeded, keys the member made were used, and each rule refused something.
    const calls = tally.calls;
    console.info(`${kind}: ${calls} calls, succeeded ${JSON.stringify(tally.succeeded)}, refusals ${JSON.stringify(Object.fromEntries(tally.reasons))}`);
    for (const n of Object.values(tally.succeeded)) expect(n).toBeGreaterThan(0);
    expect(tally.byMadeKeys).toBeGreaterThan(0);
    for (const reason of [
      "SCOPE_NOT_GRANTABLE", "CLIENT_TYPE_NOT_GRANTABLE", "EXPIRY_NOT_GRANTABLE", "RATE_LIMIT_NOT_GRANTABLE", "KEY_NOT_MANAGEABLE",
      "EXPIRED_KEY_FINAL", "SWITCHED_OFF_BY_ADMIN",
    ]) {
      expect(tally.reasons.get(reason) ?? 0, reason).toBeGreaterThan(0);
    }
  });
});

/** Whether a secret opens its key at `now`: the door's rules, written out again. */
function worksAt(key: ApiKeyRow, secretUntil: number | null, now: number): boolean {
  if (key.revokedAt || (secretUntil !== null && secretUntil <= now)) return false;
  if (key.expiresAt && key.expiresAt.getTime() <= now) return false;
  return key.active;
}

function powersOf(key: ApiKeyRow, secretUntil: number | null): Powers {
  const keyUntil = key.expiresAt?.getTime() ?? null;
  const scopes = new Set(key.scopes);
  scopes.delete("keys:admin"); // the member is not an ADMIN: keys:admin counts for nothing
  return {
    scopes,
    clientType: key.clientType,
    expiresAt: keyUntil === null ? secretUntil : secretUntil === null ? keyUntil : Math.min(keyUntil, secretUntil),
    rateLimit: policyOf(key) ?? DEFAULT_POLICY,
  };
}

const policyOf = (key: ApiKeyRow): Policy | null =>
  key.rateLimitLimit === null ? null : { limit: key.rateLimitLimit, windowSeconds: key.rateLimitWindowSeconds! };

/**
 * A key holds nothing beyond `powers`: scopes among them; a client type of the owner's or the
 * caller's own; an expiry no later (none only under none); a limit no higher and a window no
 * shorter (so no more requests over any span of time).
 */
function expectWithin(key: ApiKeyRow, powers: Powers, what: string): void {
  const label = `${what} key ${key.id}`;
  expect(key.scopes.filter((s) => !powers.scopes.has(s)), `${label}: scopes`).toEqual([]);
  expect([...MEMBER_CLIENT_TYPES, powers.clientType], `${label}: client type`).toContain(key.clientType);
  if (powers.expiresAt !== null) {
    expect(key.expiresAt, `${label}: outlives its caller`).not.toBeNull();
    expect(key.expiresAt!.getTime(), `${label}: outlives its caller`).toBeLessThanOrEqual(powers.expiresAt);
  }
  const limit = policyOf(key) ?? DEFAULT_POLICY;
  expect(limit.limit, `${label}: rate limit`).toBeLessThanOrEqual(powers.rateLimit.limit);
  expect(limit.windowSeconds, `${label}: rate-limit window`).toBeGreaterThanOrEqual(powers.rateLimit.windowSeconds);
}

function expiryInput(asked: AskedExpiry, powers: Powers, now: number): { expiresAt?: string | null } {
  const at = (ms: number) => ({ expiresAt: new Date(ms).toISOString() });
  switch (asked) {
    case "absent":
      return {};
    case "never":
      return { expiresAt: null };
    case "caller's":
      return powers.expiresAt === null ? { expiresAt: null } : at(powers.expiresAt);
    case "just after caller's":
      return at((powers.expiresAt ?? now + 2 * DAY) + 1);
    default:
      return at(now + asked);
  }
}

function rateLimitInput(asked: AskedRateLimit, powers: Powers): { rateLimit?: Policy | null } {
  const own = powers.rateLimit;
  switch (asked) {
    case "absent":
      return {};
    case "default":
      return { rateLimit: null };
    case "caller's":
      return { rateLimit: own };
    case "caller's limit + 1":
      return { rateLimit: { limit: own.limit + 1, windowSeconds: own.windowSeconds } };
    case "caller's window - 1":
      return { rateLimit: { limit: own.limit, windowSeconds: Math.max(1, own.windowSeconds - 1) } };
    default:
      return { rateLimit: POLICIES[asked]! };
  }
}

/** The member's keys without what changes by itself (usage is written in batches). */
function stable(keys: Map<string, ApiKeyRow>) {
  return sortById([...keys.values()].map(({ lastUsedAt: _, ...rest }) => rest));
}

function sortById<T extends { id: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => a.id.localeCompare(b.id));
}
