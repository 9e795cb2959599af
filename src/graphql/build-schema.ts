import { makeExecutableSchema } from "@graphql-tools/schema";
import type { IResolvers, TypeSource } from "@graphql-tools/utils";
import type { GraphQLSchema } from "graphql";
import { listSizeTypeDefs } from "./query-cost.ts";
import { requiresKeyTransform, requiresKeyTypeDefs, type RequiresKeyOptions } from "./requires-key.ts";
import { readSchemaFile } from "./schema-files.ts";

export const managementTypeDefs = readSchemaFile("management.graphql");

export interface BuildSchemaOptions {
  /** Your SDL; it may use @requiresKey. Query and Mutation merge with the management schema's. */
  typeDefs?: TypeSource;
  resolvers?: IResolvers | IResolvers[];
  managementResolvers: IResolvers;
  /** Told of every refused field (usage counting, metrics). */
  onRefusal?: RequiresKeyOptions["onRefusal"];
}

/** Directive + management + your schema, merged, with every guarded field wrapped. */
export function buildKeyscopeSchema(options: BuildSchemaOptions): GraphQLSchema {
  const own = options.resolvers ? [options.resolvers].flat() : [];
  const schema = makeExecutableSchema({
    typeDefs: [requiresKeyTypeDefs, listSizeTypeDefs, managementTypeDefs, ...(options.typeDefs ? [options.typeDefs] : [])],
    resolvers: [options.managementResolvers, ...own],
  });
  return requiresKeyTransform(schema, { onRefusal: options.onRefusal });
}
