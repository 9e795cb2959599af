// The one schema, data and query every stack of the peer comparison serves: 20 products of
// `{ id name price cost stock }`, where `cost` needs client type `partner` and `stock` needs
// scope `stock:read` (40 guarded fields per response). Each stack writes its guards its own way
// on top of `productFields` (a directive, a rule, a policy); the data and resolvers are these.

export const PRODUCT_COUNT = 20;
/** What a key must have for each guarded field. */
export const PARTNER_CLIENT_TYPE = "partner";
export const STOCK_SCOPE = "stock:read";

export interface ProductRow {
  id: string;
  name: string;
  price: number;
  cost: number;
  stock: number;
}

export const products: readonly ProductRow[] = Array.from({ length: PRODUCT_COUNT }, (_, i) => ({
  id: `p${i + 1}`,
  name: `Product ${i + 1}`,
  price: 10 + i * 2.5,
  cost: 6 + i * 1.25,
  stock: (i * 7) % 31,
}));

/**
 * The SDL, with the two guarded fields' directives left to each stack. `cost` and `stock` are
 * nullable, so that a refused field becomes null (with an error) instead of nulling the list.
 */
export function productTypeDefs(guards: { cost: string; stock: string } = { cost: "", stock: "" }): string {
  return `
    type Product {
      id: ID!
      name: String!
      price: Float!
      cost: Float ${guards.cost}
      stock: Int ${guards.stock}
    }
    type Query {
      products: [Product!]!
    }
  `;
}

/** Fields resolve by graphql-js's default resolver: the guards are the only per-field work. */
export const productResolvers = {
  Query: { products: () => products },
};

export const PRODUCTS_QUERY = "{ products { id name price cost stock } }";

/** The answer with a key that passes every guard (or from a stack without auth). */
export const expectedProducts = { data: { products } };
