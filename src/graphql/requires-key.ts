import { getDirective, MapperKind, mapSchema } from "@graphql-tools/utils";
import {
  defaultFieldResolver,
  defaultTypeResolver,
  GraphQLError,
  GraphQLInterfaceType,
  GraphQLUnionType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  type GraphQLAbstractType,
  type GraphQLField,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
  type GraphQLTypeResolver,
} from "graphql";
import type { Auth } from "../auth/context.ts";
import { clientTypeNotAllowed, keyMissing, scopeMissing, type GuardReason } from "../errors.ts";
import { NAME_PATTERN } from "../keys/names.ts";
import { readSchemaFile } from "./schema-files.ts";

/** The directive's SDL, to add to your typeDefs. */
export const requiresKeyTypeDefs = readSchemaFile("directive.graphql");

export { NAME_PATTERN };

export class DirectiveError extends Error {
  override name = "DirectiveError";
}

/** One refused field, as `onRefusal` hears of it. */
export interface Refusal {
  /** The request's auth; undefined when the context carries none. */
  auth: Auth | undefined;
  reason: GuardReason;
  /** `Type.field`. */
  coordinate: string;
}

export interface RequiresKeyOptions {
  /**
   * Told of every refused field, before its error is thrown: usage counting marks the request
   * rejected, metrics count the reason. @default nothing
   */
  onRefusal?: (refusal: Refusal) => void;
}

/**
 * Schema in, schema out: every field that a `@requiresKey` covers checks `context.auth` before
 * its resolver runs. Unguarded fields are left as they are. Throws a DirectiveError naming
 * `Type.field` for invalid arguments.
 */
export function requiresKeyTransform(schema: GraphQLSchema, options: RequiresKeyOptions = {}): GraphQLSchema {
  const fieldChecks = compileFieldChecks(schema);
  const typeChecks = compileTypeChecks(schema);
  const { onRefusal } = options;
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const coordinate = `${typeName}.${fieldName}`;
      const check = fieldChecks.get(coordinate);
      return check ? guardField(field, check, coordinate, onRefusal) : field;
    },
    [MapperKind.ABSTRACT_TYPE]: (type) => (typeChecks.size > 0 ? guardResolveType(type, typeChecks, onRefusal) : type),
  });
}

/** A guard as written: `@requiresKey(clientTypes, scopes)`. */
type Guard = { clientTypes?: string[]; scopes?: string[] };

/** The caller's refusal, or undefined when every guard holds; compiled once per guarded field. */
type Check = (auth: Auth | undefined) => GraphQLError | undefined;

/** Where a field's guards come from; every guard found adds up (all must hold). */
type GuardSource = (schema: GraphQLSchema, type: GraphQLObjectType, field: GraphQLField<unknown, unknown>) => (Guard | undefined)[];

/** The field's own guard. */
const ownGuard: GuardSource = (schema, type, field) => [readGuard(schema, field, `${type.name}.${field.name}`)];

/** The guards of the field's parent type and of the interfaces that type implements. */
const parentGuards: GuardSource = (schema, type) => [
  readGuard(schema, type, type.name),
  ...type.getInterfaces().map((i) => readGuard(schema, i, i.name)),
];

/** The guards an interface puts on the same field of its implementations. */
const interfaceFieldGuards: GuardSource = (schema, type, field) =>
  type.getInterfaces().map((i) => {
    const inherited = i.getFields()[field.name];
    return inherited ? readGuard(schema, inherited, `${i.name}.${field.name}`) : undefined;
  });

const GUARD_SOURCES: readonly GuardSource[] = [ownGuard, parentGuards, interfaceFieldGuards];

function compileFieldChecks(schema: GraphQLSchema): Map<string, Check> {
  const checks = new Map<string, Check>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type)) continue;
    if (isInterfaceType(type)) validateAll(schema, type);
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const check = compileCheck(GUARD_SOURCES.flatMap((source) => source(schema, type, field)), coordinate);
      if (check) checks.set(coordinate, check);
    }
  }
  return checks;
}

/**
 * Checks an abstract type's `resolveType` applies to the object type it resolves to, by type
 * name. None yet: a guarded type's fields refuse one by one.
 */
function compileTypeChecks(_schema: GraphQLSchema): Map<string, Check> {
  return new Map();
}

/** Interface fields are not executed, but their arguments must still be valid. */
function validateAll(schema: GraphQLSchema, type: GraphQLInterfaceType): void {
  readGuard(schema, type, type.name);
  for (const field of Object.values(type.getFields())) readGuard(schema, field, `${type.name}.${field.name}`);
}

type DirectiveHolder = Parameters<typeof getDirective>[1];

function readGuard(schema: GraphQLSchema, node: DirectiveHolder, where: string): Guard | undefined {
  const args = getDirective(schema, node, "requiresKey")?.[0] as Guard | undefined;
  if (!args) return undefined;
  for (const name of ["clientTypes", "scopes"] as const) {
    const list = args[name];
    if (list === undefined || list === null) continue;
    if (list.length === 0) throw new DirectiveError(`@requiresKey on ${where}: ${name} must not be an empty list (leave it out instead).`);
    const bad = list.find((item) => !NAME_PATTERN.test(item));
    if (bad !== undefined) {
      throw new DirectiveError(`@requiresKey on ${where}: ${name} entry ${JSON.stringify(bad)} must match ${NAME_PATTERN.source}.`);
    }
  }
  return args;
}

/**
 * All guards added up, as one function: each client type list must hold the key's client type,
 * the key must hold every scope. Nothing is allocated unless the check refuses.
 */
function compileCheck(guards: (Guard | undefined)[], coordinate: string): Check | undefined {
  const present = guards.filter((g): g is Guard => g !== undefined);
  if (present.length === 0) return undefined;
  const clientTypeLists = present.flatMap((g) => (g.clientTypes ? [g.clientTypes] : []));
  const scopes = [...new Set(present.flatMap((g) => g.scopes ?? []))];
  return (auth) => {
    const key = auth?.key;
    if (!key) return keyMissing(coordinate);
    for (let i = 0; i < clientTypeLists.length; i++) {
      const allowed = clientTypeLists[i]!;
      if (!allowed.includes(key.clientType)) return clientTypeNotAllowed(coordinate, allowed);
    }
    for (let i = 0; i < scopes.length; i++) {
      if (!key.scopes.has(scopes[i]!)) return scopeMissing(coordinate, scopes.filter((scope) => !key.scopes.has(scope)));
    }
    return undefined;
  };
}

function guardField(
  field: GraphQLFieldConfig<unknown, unknown>,
  check: Check,
  coordinate: string,
  onRefusal: RequiresKeyOptions["onRefusal"],
): GraphQLFieldConfig<unknown, unknown> {
  const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
  // Synchronous on purpose: a refused field costs no promise, an allowed one only its own resolver.
  return {
    ...field,
    resolve(source, args, context, info) {
      const auth = authOf(context);
      const refusal = check(auth);
      if (refusal) throw refused(refusal, auth, coordinate, onRefusal);
      return resolve(source, args, context, info);
    },
  };
}

/** An abstract type whose resolveType refuses object types the caller fails (null at the element's path). */
function guardResolveType(type: GraphQLAbstractType, checks: Map<string, Check>, onRefusal: RequiresKeyOptions["onRefusal"]): GraphQLAbstractType {
  const resolveType: GraphQLTypeResolver<unknown, unknown> = type.resolveType ?? defaultTypeResolver;
  const guarded: GraphQLTypeResolver<unknown, unknown> = (value, context, info, abstractType) => {
    const resolved = resolveType(value, context, info, abstractType);
    const judge = (name: string | undefined) => {
      const check = name === undefined ? undefined : checks.get(name);
      const auth = authOf(context);
      const refusal = check?.(auth);
      if (refusal) throw refused(refusal, auth, name!, onRefusal);
      return name;
    };
    return isPromiseLike(resolved) ? Promise.resolve(resolved).then(judge) : judge(resolved);
  };
  return isInterfaceType(type)
    ? new GraphQLInterfaceType({ ...type.toConfig(), resolveType: guarded })
    : new GraphQLUnionType({ ...type.toConfig(), resolveType: guarded });
}

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | undefined)?.then === "function";

function authOf(context: unknown): Auth | undefined {
  return (context as { auth?: Auth } | undefined)?.auth;
}

function refused(error: GraphQLError, auth: Auth | undefined, coordinate: string, onRefusal: RequiresKeyOptions["onRefusal"]): GraphQLError {
  onRefusal?.({ auth, reason: error.extensions.reason as GuardReason, coordinate });
  return error;
}
