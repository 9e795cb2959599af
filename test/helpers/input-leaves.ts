// Every input position of the management schema, found by walking it: a new argument or input
// field is in the list the moment it is in schema/management.graphql.
import {
  buildSchema, getNamedType, getNullableType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType,
  type GraphQLArgument, type GraphQLField, type GraphQLInputType, type GraphQLNamedType, type GraphQLSchema,
} from "graphql";
import { managementTypeDefs } from "../../src/graphql/build-schema.ts";
import { listSizeTypeDefs } from "../../src/graphql/query-cost.ts";
import { requiresKeyTypeDefs } from "../../src/graphql/requires-key.ts";

export const managementSchema: GraphQLSchema = buildSchema(`${requiresKeyTypeDefs}\n${listSizeTypeDefs}\n${managementTypeDefs}`);

/** One input position: an argument of a field, or a field inside an argument's input object. */
export interface InputLeaf {
  /** The object type whose field takes the argument (Query, Mutation, ApiKey…). */
  owner: string;
  field: string;
  /** [argument, input field, input field…] */
  path: string[];
  /** Named type at the leaf: String, ID, DateTime, Int, Boolean, an enum… */
  type: GraphQLNamedType;
  /** Where the leaf's value sits inside lists (`[String!]`: a list of it). */
  inList: boolean;
  /** `Type.field(arg)` or `InputType.field`: the key of fixture tables. */
  coordinate: string;
}

/** Text-carrying scalars: what bad text may be put into. */
export const TEXT_SCALARS = new Set(["String", "ID", "DateTime"]);

/** Every leaf of every argument of every field of every object type. */
export function inputLeaves(schema: GraphQLSchema = managementSchema): InputLeaf[] {
  const leaves: InputLeaf[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      for (const arg of field.args) walk(type.name, field, arg.name, arg.type, [arg.name], `${type.name}.${field.name}(${arg.name})`, false, leaves, new Set());
    }
  }
  return leaves;
}

function walk(owner: string, field: GraphQLField<unknown, unknown>, _name: string, type: GraphQLInputType, path: string[], coordinate: string, inList: boolean, into: InputLeaf[], seen: Set<string>): void {
  const nullable = getNullableType(type);
  const list = isListType(nullable) || inList;
  const named = getNamedType(type);
  if (isInputObjectType(named)) {
    if (seen.has(named.name)) return;
    for (const inner of Object.values(named.getFields())) {
      walk(owner, field, inner.name, inner.type, [...path, inner.name], `${named.name}.${inner.name}`, list, into, new Set([...seen, named.name]));
    }
    return;
  }
  into.push({ owner, field: field.name, path, type: named, inList: list, coordinate });
}

/** Whether an argument or input field must be given. */
export const isRequired = (arg: Pick<GraphQLArgument, "type">) => isNonNullType(arg.type);

/** How the services name a leaf's field (SPEC §6): the argument path, without the `input` wrapper. */
export const expectedField = (leaf: Pick<InputLeaf, "path">) => leaf.path.join(".").replace(/^input\./, "");

export const isTextLeaf = (leaf: InputLeaf) => isScalarType(leaf.type) && TEXT_SCALARS.has(leaf.type.name);
