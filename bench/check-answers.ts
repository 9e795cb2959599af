// Before anything is measured, each variant is asked once by hand and its answer judged: a
// bench that measures error responses is worthless. The exact text then becomes the body that
// every measured response must match (measure.ts).
import { isDeepStrictEqual } from "node:util";
import { expectedProducts, products, PRODUCT_COUNT } from "./products.ts";

export interface Answer {
  status: number;
  text: string;
}

export async function post(url: string, headers: Record<string, string>, body: string): Promise<Answer> {
  const response = await fetch(url, { method: "POST", headers, body });
  return { status: response.status, text: await response.text() };
}

/** The full answer (a key that passes every guard, or a stack without auth): 200, all data, no errors. */
export function checkFullAnswer(name: string, answer: Answer, expected: unknown = expectedProducts): void {
  const json = parse(name, answer);
  if (answer.status !== 200 || !isDeepStrictEqual(json, expected)) {
    throw new Error(`${name}: expected 200 ${JSON.stringify(expected).slice(0, 120)}…, got ${answer.status} ${answer.text.slice(0, 400)}`);
  }
}

/**
 * The answer to a key that fails both guards: no `cost` or `stock` value may come back, and it
 * must say why. Returns how the stack answered (it nulls the fields, or rejects the operation).
 */
export function describeDenied(name: string, answer: Answer): string {
  const json = parse(name, answer) as { data?: { products?: Record<string, unknown>[] } | null; errors?: { message?: string; extensions?: { code?: string } }[] };
  const errors = json.errors ?? [];
  const fail = (why: string) => new Error(`${name} with the denied key: ${why}; got ${answer.status} ${answer.text.slice(0, 400)}`);
  if (errors.length === 0) throw fail("no error");
  const first = `${errors[0]!.message ?? ""}${errors[0]!.extensions?.code ? ` (${errors[0]!.extensions.code})` : ""}`;
  const list = json.data?.products;
  if (!list) return `HTTP ${answer.status}, rejects the whole operation: no data, ${errors.length} error(s), first "${first}"`;
  if (list.length !== PRODUCT_COUNT) throw fail(`${list.length} products instead of ${PRODUCT_COUNT}`);
  list.forEach((product, i) => {
    if (product.cost !== null || product.stock !== null) throw fail(`product ${i} has cost or stock`);
    const { id, name: productName, price } = products[i]!;
    if (!isDeepStrictEqual({ id: product.id, name: product.name, price: product.price }, { id, name: productName, price })) {
      throw fail(`product ${i}'s unguarded fields are wrong`);
    }
  });
  return `HTTP ${answer.status}, nulls the guarded fields: data with cost and stock null in all ${PRODUCT_COUNT} products, ${errors.length} errors, first "${first}"`;
}

function parse(name: string, answer: Answer): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    throw new Error(`${name}: not JSON: ${answer.status} ${answer.text.slice(0, 400)}`);
  }
}
