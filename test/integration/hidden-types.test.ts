// SPEC §5: a guarded type hides that its objects exist, on the example schema over real HTTP.
// The attacks of issue 10 as a class: any search text, any selection, without the key's power.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../helpers/databases.ts";
import { apiKey, startServer, type TestServer } from "../helpers/server.ts";

const SUPPLIERS = [
  { id: "s1", name: "Nordic Timber", contactEmail: "sales@nordic-timber.example" },
  { id: "s2", name: "Atlas Metals", contactEmail: "orders@atlas-metals.example" },
];
const PRODUCT_NAMES = ["Oak desk", "Steel shelf", "Birch stool"];

/** Selections an attacker might try on search results. */
const SELECTIONS = [
  "{ __typename }",
  "{ __typename ... on Supplier { id name } }",
  "{ ... on Supplier { contactEmail } }",
  "{ ...S } fragment S on Supplier { __typename name }",
  "{ __typename ... on Product { name } }",
];

describe.each(databaseKinds)("a guarded type hides that its objects exist, on %s", (kind) => {
  let server: TestServer;
  /** Callers that fail Supplier's guard (suppliers:read): none, no scope, another scope. */
  let callers: { name: string; headers: [string, string][]; reason: string }[];
  let supplierReader: string;

  beforeAll(async () => {
    server = await startServer(kind);
    const plain = await server.issueKey({ clientType: "backoffice" });
    const orders = await server.issueKey({ clientType: "partner", scopes: ["orders:read"] });
    supplierReader = (await server.issueKey({ clientType: "mobile", scopes: ["suppliers:read"] })).secret;
    callers = [
      { name: "no key", headers: [], reason: "KEY_MISSING" },
      { name: "a key without scopes", headers: [apiKey(plain.secret)], reason: "SCOPE_MISSING" },
      { name: "a key with orders:read only", headers: [apiKey(orders.secret)], reason: "SCOPE_MISSING" },
    ];
  });
  afterAll(() => server?.close());

  it("search: for any text and selection, no supplier's type, id, name or email reaches a caller without suppliers:read", async () => {
    const texts = fc.oneof(
      // Substrings of the real names, as an attacker guessing one letter at a time would send.
      fc.constantFrom(...SUPPLIERS, ...PRODUCT_NAMES.map((name) => ({ name }))).chain(({ name }) =>
        fc.tuple(fc.nat({ max: name.length - 1 }), fc.integer({ min: 1, max: name.length })).map(([from, length]) => name.slice(from, from + length)),
      ),
      fc.string({ maxLength: 4 }),
    );
    await fc.assert(
      fc.asyncProperty(texts, fc.constantFrom(...SELECTIONS), fc.nat({ max: 2 }), async (text, selection, who) => {
        const caller = callers[who]!;
        const [body, fragment = ""] = selection.split(" fragment ");
        const query = `query ($text: String!) { search(text: $text) ${body} }${fragment ? ` fragment ${fragment}` : ""}`;
        const res = await server.query(query, caller.headers, { text });
        expect(res.status).toBe(200);
        // The example lists matching products, then matching suppliers.
        const matches = [...PRODUCT_NAMES.map((name) => ({ name })), ...SUPPLIERS].filter((item) => item.name.toLowerCase().includes(text.toLowerCase()));
        expect(res.json.data.search).toHaveLength(matches.length);
        for (const supplier of SUPPLIERS) {
          for (const secret of [supplier.id, supplier.name, supplier.contactEmail]) expect(res.text).not.toContain(`"${secret}"`);
        }
        expect(res.text).not.toContain("Supplier");
        // Each supplier's place is null, with one error at its path that says what it needs.
        const supplierPlaces = matches.flatMap((item, index) => ("contactEmail" in item ? [index] : []));
        expect(res.json.data.search.flatMap((element: unknown, index: number) => (element === null ? [index] : []))).toEqual(supplierPlaces);
        expect(res.json.errors ?? []).toEqual(
          supplierPlaces.map((index) => ({
            message: expect.stringMatching(/^An element of Query\.search requires /),
            locations: expect.any(Array),
            path: ["search", index],
            extensions: { code: caller.reason === "KEY_MISSING" ? "UNAUTHENTICATED" : "FORBIDDEN", reason: caller.reason },
          })),
        );
      }),
      { numRuns: 60 },
    );
  });

  it("search: the issue's example, and what a key with suppliers:read sees", async () => {
    const attack = await server.query('{ search(text: "Nordic T") { __typename } }');
    expect(attack.json).toEqual({
      data: { search: [null] },
      errors: [
        {
          message: "An element of Query.search requires an API key. Send one in the X-API-Key header.",
          locations: [{ line: 1, column: 3 }],
          path: ["search", 0],
          extensions: { code: "UNAUTHENTICATED", reason: "KEY_MISSING" },
        },
      ],
    });
    const allowed = await server.query('{ search(text: "t") { __typename ... on Supplier { name } ... on Product { name } } }', [apiKey(supplierReader)]);
    expect(allowed.json).toEqual({
      data: {
        search: [
          { __typename: "Product", name: "Steel shelf" },
          { __typename: "Product", name: "Birch stool" },
          { __typename: "Supplier", name: "Nordic Timber" },
          { __typename: "Supplier", name: "Atlas Metals" },
        ],
      },
    });
  });

  it("orders and Product.supplier: a field returning a guarded type is refused whole, so nothing is counted", async () => {
    for (const caller of callers) {
      const res = await server.query("{ orders { __typename } products { supplier { __typename } } }", caller.headers);
      expect(res.status, caller.name).toBe(200);
      expect(res.json.data, caller.name).toEqual({ orders: null, products: [{ supplier: null }, { supplier: null }, { supplier: null }] });
      expect(res.json.errors.map((e: { path: unknown[] }) => e.path), caller.name).toEqual([
        ["orders"],
        ["products", 0, "supplier"],
        ["products", 1, "supplier"],
        ["products", 2, "supplier"],
      ]);
      expect(res.text, caller.name).not.toContain('"Order"');
      expect(res.text, caller.name).not.toContain('"Supplier"');
    }
    // orders:read is not enough: every Order is Internal, which needs a backoffice key.
    const partner = await server.query("{ orders { __typename } }", callers[2]!.headers);
    expect(partner.json.errors).toEqual([
      {
        message: "Query.orders requires a key of client type 'backoffice'.",
        locations: [{ line: 1, column: 3 }],
        path: ["orders"],
        extensions: { code: "FORBIDDEN", reason: "CLIENT_TYPE_NOT_ALLOWED" },
      },
    ]);
  });
});
