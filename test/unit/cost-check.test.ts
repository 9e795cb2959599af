// costCheck keeps the verdict of an operation that costs the same every time (no variables, no
// `listSizes` function asked) with the operation's node; anything else is walked again.
import { buildSchema, parse, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { costCheck } from "../../src/graphql/cost-limit.ts";
import { listSizeTypeDefs } from "../../src/graphql/query-cost.ts";

const schema = buildSchema(`
  ${listSizeTypeDefs}
  type Query { items(first: Int): [Item!]! @listSize(slicingArguments: ["first"]) usage: [Item!]! }
  type Item { id: ID! children: [Item!]! }
`);

const operationOf = (query: string) => {
  const document = parse(query);
  return { document, operation: document.definitions[0] as OperationDefinitionNode };
};

const refusalOf = (run: () => void): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
};

describe("costCheck", () => {
  it("an operation with variables is judged by each request's variables", () => {
    const check = costCheck({ maxCost: 50 });
    const { document, operation } = operationOf("query ($n: Int) { items(first: $n) { id } }");
    expect(refusalOf(() => check(schema, document, operation, { n: 5 }))).toBeUndefined();
    expect(refusalOf(() => check(schema, document, operation, { n: 500 }))).toMatch(/would cost 500/);
    expect(refusalOf(() => check(schema, document, operation, { n: 5 }))).toBeUndefined();
  });

  it("an operation whose walk asks a listSizes function (it may read the clock) is walked every time", () => {
    let size = 5;
    const check = costCheck({ maxCost: 50, listSizes: { "Query.usage": () => size } });
    const { document, operation } = operationOf("{ usage { id } }");
    expect(refusalOf(() => check(schema, document, operation, undefined))).toBeUndefined();
    size = 500;
    expect(refusalOf(() => check(schema, document, operation, undefined))).toMatch(/would cost 500/);
  });

  it("a variable-free operation keeps its verdict, refusals included, for the same node", () => {
    let asked = 0;
    const check = costCheck({ maxCost: 50, listSizes: { "Query.usage": () => (asked++, 1) } });
    const costly = operationOf("{ items(first: 100) { id } }");
    for (let i = 0; i < 3; i++) expect(refusalOf(() => check(schema, costly.document, costly.operation, undefined))).toMatch(/would cost 100/);
    const fine = operationOf("{ items(first: 3) { children { id } } }");
    for (let i = 0; i < 3; i++) expect(refusalOf(() => check(schema, fine.document, fine.operation, undefined))).toBeUndefined();
    // Inside itself is a verdict too.
    const nested = costCheck({ maxCost: 1000, notInsideItself: { "Item.children": "no" } });
    const inside = operationOf("{ items(first: 1) { children { children { id } } } }");
    for (let i = 0; i < 2; i++) expect(refusalOf(() => nested(schema, inside.document, inside.operation, undefined))).toMatch(/inside Item.children/);
    expect(asked).toBe(0);
  });
});
