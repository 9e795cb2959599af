// Caller.grantable states up front what createApiKey and updateApiKey will accept: for every
// calling key and every grant, checkGrant passes exactly when the grant is within the bounds
// grantableBy reports (read as the schema documents them, written out here on their own), so
// that the console, which offers only what grantable allows, never offers a refusal nor hides
// a grant that would pass.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Principal } from "../../src/auth/principal.ts";
import type { UserRow } from "../../src/db/schema/index.ts";
import { checkGrant, grantableBy, type Grant, type Grantable } from "../../src/keys/key-permissions.ts";

const SCOPES = ["keys:self", "keys:admin", "orders:read", "orders:write", "reports:read"];
const CLIENT_TYPES = ["mobile", "partner", "backoffice"];
const NOW = Date.parse("2026-12-02T12:00:00Z");
const DAY = 86_400_000;

const policy = fc.record({ limit: fc.integer({ min: 1, max: 200 }), windowSeconds: fc.integer({ min: 1, max: 120 }) });
const expiry = fc.option(fc.integer({ min: 1, max: 60 }).map((days) => NOW + days * DAY), { nil: null });

const caller = fc.record({
  admin: fc.boolean(),
  role: fc.constantFrom("ADMIN" as const, "MEMBER" as const),
  scopes: fc.subarray(SCOPES),
  clientType: fc.constantFrom(...CLIENT_TYPES),
  expiresAt: expiry,
  rateLimit: fc.option(policy, { nil: null }),
  ownerClientTypes: fc.subarray(CLIENT_TYPES),
  defaultRateLimit: policy,
});

const grant: fc.Arbitrary<Grant> = fc.record(
  {
    scopes: fc.subarray(SCOPES),
    clientType: fc.constantFrom(...CLIENT_TYPES),
    expiresAt: fc.option(expiry.map((ms) => (ms === null ? null : new Date(ms))), { nil: undefined }),
    rateLimit: fc.option(fc.option(policy, { nil: null }), { nil: undefined }),
  },
  { requiredKeys: [] },
);

/** The Grantable's meaning, as schema/management.graphql documents it. */
function withinBounds(g: Grant, bounds: Grantable, owner: UserRow): boolean {
  if (g.scopes?.includes("keys:admin") && owner.role !== "ADMIN") return false;
  if (bounds.unrestricted) return true;
  if (g.scopes && !g.scopes.every((s) => bounds.scopes.includes(s))) return false;
  if (g.clientType !== undefined && !bounds.clientTypes.includes(g.clientType)) return false;
  if (g.expiresAt !== undefined && bounds.latestExpiresAt !== null && (g.expiresAt === null || g.expiresAt > bounds.latestExpiresAt)) return false;
  if (g.rateLimit === null && !bounds.defaultRateLimitGrantable) return false;
  const max = bounds.maxRateLimit;
  if (g.rateLimit && max && (g.rateLimit.limit > max.limit || g.rateLimit.windowSeconds < max.windowSeconds)) return false;
  return true;
}

type CallingCase = typeof caller extends fc.Arbitrary<infer T> ? T : never;

function setUp(c: CallingCase) {
  const owner = { id: "u", email: "u@example.com", name: null, role: c.role, clientTypes: c.ownerClientTypes, disabled: false, createdAt: new Date(NOW), updatedAt: new Date(NOW) } as UserRow;
  const principal: Principal = {
    userId: "u", keyId: "k", ip: null, admin: c.admin && c.role === "ADMIN" && c.scopes.includes("keys:admin"),
    scopes: new Set<string>(c.scopes), callingKey: { clientType: c.clientType, expiresAt: c.expiresAt, rateLimit: c.rateLimit },
  };
  return { owner, principal, context: { now: NOW, defaultRateLimit: c.defaultRateLimit } };
}

const accepted = (f: () => void) => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};

describe("Caller.grantable", () => {
  it("checkGrant accepts a grant exactly when it is within grantable's bounds, for every calling key", () => {
    fc.assert(
      fc.property(caller, grant, (c, g) => {
        const { owner, principal, context } = setUp(c);
        const bounds = grantableBy(principal, owner, context);
        expect(accepted(() => checkGrant(principal, owner, g, context))).toBe(withinBounds(g, bounds, owner));
      }),
      { numRuns: 5000 },
    );
  });

  it("admin power is unrestricted; without it the bounds are the calling key's own", () => {
    fc.assert(
      fc.property(caller, (c) => {
        const { owner, principal, context } = setUp(c);
        const bounds = grantableBy(principal, owner, context);
        expect(bounds.unrestricted).toBe(principal.admin);
        expect(bounds.clientTypes).toEqual(owner.clientTypes);
        expect(bounds.scopes.includes("keys:admin")).toBe(c.scopes.includes("keys:admin") && owner.role === "ADMIN");
        if (!principal.admin) {
          expect(bounds.latestExpiresAt?.getTime() ?? null).toBe(c.expiresAt);
          expect(bounds.maxRateLimit).toEqual(c.rateLimit ?? c.defaultRateLimit);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
