import { getDirective } from "@graphql-tools/utils";
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isCompositeType,
  isListType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { readSchemaFile } from "./schema-files.ts";

/** The `@listSize` directive's SDL, to add to your typeDefs when you size your own lists. */
export const listSizeTypeDefs = readSchemaFile("list-size.graphql");

/** A list's size when neither `@listSize` nor `listSizes` says more. */
export const DEFAULT_LIST_SIZE = 10;

/** Fields counted at most: past this the walk stops and the query counts as too costly. */
export const MAX_COUNTED_FIELDS = 10_000;

export interface QueryCostOptions {
  /** The size of a list field without `@listSize` or `listSizes`. @default DEFAULT_LIST_SIZE */
  defaultListSize?: number;
  /** Lists whose size their arguments decide in a way `@listSize` cannot say, by `Type.field`. */
  listSizes?: Readonly<Record<string, (args: Record<string, unknown>) => number>>;
  /**
   * `Type.field`s that may not be selected inside themselves, each with why (a cycle that
   * serves no one, such as a user's keys' owner's keys). @default none
   */
  notInsideItself?: Readonly<Record<string, string>>;
}

/** What a query would cost, or why it is refused whatever its cost. */
export type CostVerdict =
  | { kind: "cost"; cost: number }
  | { kind: "inside-itself"; coordinate: string; why: string }
  /** The variables do not fit the operation: execution refuses them, and nothing runs. */
  | { kind: "invalid-variables" };

/**
 * The cost of one operation, before it runs: every object (a field of object, interface or union
 * type) counts 1, times the sizes of the lists it is in; scalars, `__typename` and introspection
 * count 0. Sizes come from `listSizes`, else `@listSize` (a slicing argument's value, or its
 * `assumedSize`), else `defaultListSize`. An abstract type counts as its costliest member.
 * `@skip` / `@include` are honoured; a field selected twice counts twice.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  options: QueryCostOptions = {},
): CostVerdict {
  let coerced: Record<string, unknown> = NO_VARIABLES;
  if (operation.variableDefinitions?.length) {
    const found = getVariableValues(schema, operation.variableDefinitions, variables ?? {});
    if (found.errors) return { kind: "invalid-variables" };
    coerced = found.coerced;
  }
  const root = schema.getRootType(operation.operation);
  if (!root) return { kind: "cost", cost: 0 };
  const walk: Walk = {
    schema,
    document,
    variables: coerced,
    fragments: undefined,
    defaultListSize: options.defaultListSize ?? DEFAULT_LIST_SIZE,
    listSizes: options.listSizes ?? NONE,
    notInsideItself: options.notInsideItself ?? NONE,
    inside: undefined,
    spreading: undefined,
    counted: 0,
    refusal: undefined,
  };
  const cost = selectionCost(operation.selectionSet, root, walk, undefined);
  if (walk.refusal) return walk.refusal;
  return { kind: "cost", cost: walk.counted > MAX_COUNTED_FIELDS ? Infinity : cost };
}

const NO_VARIABLES: Record<string, unknown> = Object.freeze({});
const NONE = Object.freeze({});

interface Walk {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables: Record<string, unknown>;
  /** Built at the first spread. */
  fragments: Map<string, FragmentDefinitionNode> | undefined;
  defaultListSize: number;
  listSizes: Readonly<Record<string, (args: Record<string, unknown>) => number>>;
  notInsideItself: Readonly<Record<string, string>>;
  /** notInsideItself fields on the path being walked (made when first needed, like `spreading`). */
  inside: Set<string> | undefined;
  /** Fragments on the path being walked (validation refuses cycles; this keeps the walk finite anyway). */
  spreading: Set<string> | undefined;
  counted: number;
  refusal: Extract<CostVerdict, { kind: "inside-itself" }> | undefined;
}

/** A size a connection field hands down to its `sizedFields` (its edges). */
type HandedDown = { fields: readonly string[]; size: number } | undefined;

function selectionCost(set: SelectionSetNode, type: GraphQLCompositeType, walk: Walk, handed: HandedDown): number {
  if (!isAbstractType(type)) return objectCost(set, type, walk, handed);
  let most = 0;
  for (const member of walk.schema.getPossibleTypes(type)) most = Math.max(most, objectCost(set, member, walk, handed));
  return most;
}

/** The cost of a selection set as an object of `object` type executes it. */
function objectCost(set: SelectionSetNode, object: GraphQLObjectType, walk: Walk, handed: HandedDown): number {
  let sum = 0;
  for (const selection of set.selections) {
    if (walk.refusal || walk.counted > MAX_COUNTED_FIELDS) return sum;
    if (!included(selection, walk)) continue;
    if (selection.kind === Kind.FIELD) sum += fieldCost(selection, object, walk, handed);
    else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (applies(selection.typeCondition?.name.value, object, walk)) sum += objectCost(selection.selectionSet, object, walk, handed);
    } else sum += spreadCost(selection, object, walk, handed);
  }
  return sum;
}

function spreadCost(spread: FragmentSpreadNode, object: GraphQLObjectType, walk: Walk, handed: HandedDown): number {
  const name = spread.name.value;
  walk.fragments ??= new Map(walk.document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const fragment = walk.fragments.get(name);
  walk.spreading ??= new Set();
  if (!fragment || walk.spreading.has(name) || !applies(fragment.typeCondition.name.value, object, walk)) return 0;
  walk.spreading.add(name);
  const cost = objectCost(fragment.selectionSet, object, walk, handed);
  walk.spreading.delete(name);
  return cost;
}

function fieldCost(node: FieldNode, object: GraphQLObjectType, walk: Walk, handed: HandedDown): number {
  const name = node.name.value;
  // __typename, and introspection: answered from the schema in memory, off in production.
  if (!node.selectionSet || name.startsWith("__")) return 0;
  const field = object.getFields()[name];
  if (!field) return 0;
  const info = fieldInfo(walk.schema, object, field);
  if (!info.returned) return 0;
  walk.counted++;
  const { coordinate, sizing } = info;
  const why = walk.notInsideItself[coordinate];
  if (why !== undefined && walk.inside?.has(coordinate)) {
    walk.refusal = { kind: "inside-itself", coordinate, why };
    return 0;
  }
  const sliced = sizing?.slicingArguments ? slicedSize(node, sizing.slicingArguments, walk.variables) : undefined;
  const computed = walk.listSizes[coordinate];
  const size = info.list
    ? (handedSize(name, handed) ?? (computed ? computed(argumentsOf(field, node, walk)) : undefined) ?? sliced ?? sizing?.assumedSize ?? walk.defaultListSize)
    : 1;
  const toChildren: HandedDown = sizing?.sizedFields ? { fields: sizing.sizedFields, size: sliced ?? sizing.assumedSize ?? walk.defaultListSize } : undefined;
  if (why !== undefined) (walk.inside ??= new Set()).add(coordinate);
  const children = selectionCost(node.selectionSet, info.returned, walk, toChildren);
  if (why !== undefined) walk.inside!.delete(coordinate);
  return Math.max(0, size) * (1 + children);
}

/** The first slicing argument the query gives a number, as a literal or a variable. */
function slicedSize(node: FieldNode, names: readonly string[], variables: Record<string, unknown>): number | undefined {
  for (const name of names) {
    for (const argument of node.arguments ?? []) {
      if (argument.name.value !== name) continue;
      const { value } = argument;
      const given = value.kind === Kind.VARIABLE ? variables[value.name.value] : value.kind === Kind.INT ? Number(value.value) : undefined;
      if (typeof given === "number") return given;
    }
  }
  return undefined;
}

const handedSize = (name: string, handed: HandedDown) => (handed?.fields.includes(name) ? handed.size : undefined);

function included(node: FieldNode | InlineFragmentNode | FragmentSpreadNode, walk: Walk): boolean {
  if (!node.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, node, walk.variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, walk.variables)?.if !== false;
}

function applies(condition: string | undefined, object: GraphQLObjectType, walk: Walk): boolean {
  if (condition === undefined || condition === object.name) return true;
  const type = walk.schema.getType(condition);
  return type !== undefined && isAbstractType(type) && walk.schema.isSubType(type, object);
}

/** The field's arguments with variables put in; none when they cannot be read (execution will say why). */
function argumentsOf(field: GraphQLField<unknown, unknown>, node: FieldNode, walk: Walk): Record<string, unknown> {
  try {
    return getArgumentValues(field, node, walk.variables);
  } catch {
    return {};
  }
}

interface ListSize {
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
}

/** What the walk needs of a field, read once per field: the cost is computed at every request. */
interface FieldInfo {
  coordinate: string;
  /** Its named type when it is an object, interface or union; scalars cost nothing. */
  returned: GraphQLCompositeType | undefined;
  list: boolean;
  sizing: ListSize | undefined;
}

const fieldInfos = new WeakMap<GraphQLField<unknown, unknown>, FieldInfo>();

function fieldInfo(schema: GraphQLSchema, object: GraphQLObjectType, field: GraphQLField<unknown, unknown>): FieldInfo {
  let info = fieldInfos.get(field);
  if (info === undefined) {
    const named = getNamedType(field.type);
    info = {
      coordinate: `${object.name}.${field.name}`,
      returned: isCompositeType(named) ? named : undefined,
      list: isListType(getNullableType(field.type)),
      sizing: schema.getDirective("listSize") ? (getDirective(schema, field, "listSize")?.[0] as ListSize | undefined) : undefined,
    };
    fieldInfos.set(field, info);
  }
  return info;
}
