import { readSchemaFile } from "../graphql/schema-files.ts";

/** The demo domain served by `npm start`: fixed data, so every outcome can be tried with curl. */
export const exampleTypeDefs = readSchemaFile("example.graphql");

const suppliers = [
  { id: "s1", name: "Nordic Timber", contactEmail: "sales@nordic-timber.example" },
  { id: "s2", name: "Atlas Metals", contactEmail: "orders@atlas-metals.example" },
];
const products = [
  { id: "p1", name: "Oak desk", price: 420, cost: 260, supplierId: "s1", stock: 12 },
  { id: "p2", name: "Steel shelf", price: 95, cost: 51, supplierId: "s2", stock: 40 },
  { id: "p3", name: "Birch stool", price: 60, cost: 29, supplierId: "s1", stock: 0 },
];
const orders = [
  { id: "o1", productId: "p1", quantity: 2, internalNote: "Gift wrap" },
  { id: "o2", productId: "p2", quantity: 5, internalNote: null },
];

type ProductRow = (typeof products)[number];

export const exampleResolvers = {
  Query: {
    products: () => products,
    product: (_: unknown, { id }: { id: string }) => products.find((p) => p.id === id) ?? null,
    search: (_: unknown, { text }: { text: string }) => {
      const needle = text.toLowerCase();
      return [...products, ...suppliers].filter((item) => item.name.toLowerCase().includes(needle));
    },
    inventory: () => products.map((p) => ({ productId: p.id, quantity: p.stock })),
    salesReport: () => ({
      orders: orders.length,
      revenue: orders.reduce((sum, o) => sum + o.quantity * (products.find((p) => p.id === o.productId)?.price ?? 0), 0),
    }),
    orders: () => orders,
  },
  Product: {
    supplier: (product: ProductRow) => suppliers.find((s) => s.id === product.supplierId) ?? null,
  },
  SearchResult: {
    __resolveType: (item: object) => ("price" in item ? "Product" : "Supplier"),
  },
};
