import { getDirective, MapperKind, mapSchema } from "@graphql-tools/utils";
import {
  defaultFieldResolver,
  defaultTypeResolver,
  getNamedType,
  GraphQLError,
  GraphQLInterfaceType,
  GraphQLUnionType,
  isAbstractType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  responsePathAsArray,
  type GraphQLAbstractType,
  type GraphQLField,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type GraphQLTypeResolver,
} from "graphql";
import type { Auth } from "../auth/context.ts";
import { clientTypeNotAllowed, keyMissing, scopeMissing, type FieldErrorPlace, type GuardReason } from "../errors.ts";
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
  /** `Type.field`: the refused field, or the field whose element (of a union or interface) was refused. */
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
 * its resolver runs, and so does every field whose type is a guarded object or interface type;
 * unions and interfaces refuse an element that resolves to a guarded type the caller fails.
 * Unguarded fields and abstract types without guarded members are left as they are. Throws a
 * DirectiveError naming `Type.field` for invalid arguments.
 */
export function requiresKeyTransform(schema: GraphQLSchema, options: RequiresKeyOptions = {}): GraphQLSchema {
  const fieldChecks = compileFieldChecks(schema);
  const typeChecks = compileTypeChecks(schema);
  const { onRefusal } = options;
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const coordinate = `${typeName}.${fieldName}`;
      const check = fieldChecks.get(coordinate);
      const guarded = check ? guardField(field, check, coordinate, onRefusal) : field;
      const returned = getNamedType(field.type);
      const abstract = isAbstractType(returned) && schema.getPossibleTypes(returned).some((member) => typeChecks.has(member.name));
      return abstract ? screenElements(guarded, returned, typeChecks, onRefusal) : guarded;
    },
    [MapperKind.ABSTRACT_TYPE]: (type) =>
      schema.getPossibleTypes(type).some((member) => typeChecks.has(member.name)) ? guardResolveType(type, typeChecks, onRefusal) : type,
  });
}

/** A guard as written: `@requiresKey(clientTypes, scopes)`. */
type Guard = { clientTypes?: string[]; scopes?: string[] };

/**
 * Why the caller fails, or undefined when every guard holds; compiled once per guarded field or
 * type. Nothing is allocated unless the check fails (and then only for a missing scope's list).
 */
type Check = (auth: Auth | undefined) => Failure | undefined;

type Failure =
  | { reason: "KEY_MISSING" }
  | { reason: "CLIENT_TYPE_NOT_ALLOWED"; allowed: readonly string[] }
  | { reason: "SCOPE_MISSING"; missing: readonly string[] };

const NO_KEY: Failure = Object.freeze({ reason: "KEY_MISSING" });

/** Where a field's guards come from; every guard found adds up (all must hold). */
type GuardSource = (schema: GraphQLSchema, type: GraphQLObjectType, field: GraphQLField<unknown, unknown>) => (Guard | undefined)[];

/** The field's own guard. */
const ownGuard: GuardSource = (schema, type, field) => [readGuard(schema, field, `${type.name}.${field.name}`)];

/** The guards of the field's parent type and of the interfaces that type implements. */
const parentGuards: GuardSource = (schema, type) => typeGuards(schema, type);

/**
 * A guarded type hides that its objects exist (as Apollo Router's authorization does): a field
 * whose type is a guarded object or interface type, in lists or non-null or not, needs its guard.
 */
const returnTypeGuards: GuardSource = (schema, _type, field) => {
  const returned = getNamedType(field.type);
  return isObjectType(returned) || isInterfaceType(returned) ? typeGuards(schema, returned) : [];
};

/** The guards an interface puts on the same field of its implementations. */
const interfaceFieldGuards: GuardSource = (schema, type, field) =>
  type.getInterfaces().map((i) => {
    const inherited = i.getFields()[field.name];
    return inherited ? readGuard(schema, inherited, `${i.name}.${field.name}`) : undefined;
  });

const GUARD_SOURCES: readonly GuardSource[] = [ownGuard, parentGuards, interfaceFieldGuards, returnTypeGuards];

/** A type's guard: its own `@requiresKey` and those of the interfaces it implements. */
function typeGuards(schema: GraphQLSchema, type: GraphQLObjectType | GraphQLInterfaceType): (Guard | undefined)[] {
  return [readGuard(schema, type, type.name), ...type.getInterfaces().map((i) => readGuard(schema, i, i.name))];
}

function compileFieldChecks(schema: GraphQLSchema): Map<string, Check> {
  const checks = new Map<string, Check>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type)) continue;
    if (isInterfaceType(type)) validateAll(schema, type);
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const check = compileCheck(GUARD_SOURCES.flatMap((source) => source(schema, type, field)));
      if (check) checks.set(coordinate, check);
    }
  }
  return checks;
}

/** Each guarded object type's check, by name: what an abstract type's `resolveType` applies. */
function compileTypeChecks(schema: GraphQLSchema): Map<string, Check> {
  const checks = new Map<string, Check>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    const check = compileCheck(typeGuards(schema, type));
    if (check) checks.set(type.name, check);
  }
  return checks;
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
 * the key must hold every scope.
 */
function compileCheck(guards: (Guard | undefined)[]): Check | undefined {
  const present = guards.filter((g): g is Guard => g !== undefined);
  if (present.length === 0) return undefined;
  // The same list may come from two sources (a type that returns itself): check it once.
  const clientTypeLists = [...new Map(present.flatMap((g) => (g.clientTypes ? [[g.clientTypes.join(" "), g.clientTypes] as const] : []))).values()];
  const clientTypeFailures: Failure[] = clientTypeLists.map((allowed) => Object.freeze({ reason: "CLIENT_TYPE_NOT_ALLOWED", allowed }));
  const scopes = [...new Set(present.flatMap((g) => g.scopes ?? []))];
  return (auth) => {
    const key = auth?.key;
    if (!key) return NO_KEY;
    for (let i = 0; i < clientTypeLists.length; i++) {
      if (!clientTypeLists[i]!.includes(key.clientType)) return clientTypeFailures[i];
    }
    for (let i = 0; i < scopes.length; i++) {
      if (!key.scopes.has(scopes[i]!)) return { reason: "SCOPE_MISSING", missing: scopes.filter((scope) => !key.scopes.has(scope)) };
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
      const failure = check(auth);
      // Made at the field's place (the whole field is refused, not an element of it).
      if (failure) throw refused(failure, auth, coordinate, coordinate, onRefusal, { nodes: info.fieldNodes, path: responsePathAsArray(info.path) });
      return resolve(source, args, context, info);
    },
  };
}

/**
 * A field returning a union or interface with guarded members: each element (in lists at any
 * depth) of a guarded type the caller fails is replaced by its refusal, which graphql-js and
 * graphql-jit alike turn into null with the error at the element's path. (graphql-jit lets an
 * error thrown from resolveType fail the whole operation; the resolveType guard below stays as
 * the second line for elements this cannot type without waiting, when resolveType is async.)
 */
function screenElements(
  field: GraphQLFieldConfig<unknown, unknown>,
  type: GraphQLAbstractType,
  checks: Map<string, Check>,
  onRefusal: RequiresKeyOptions["onRefusal"],
): GraphQLFieldConfig<unknown, unknown> {
  const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
  const resolveType: GraphQLTypeResolver<unknown, unknown> = type.resolveType ?? defaultTypeResolver;
  const screen = (value: unknown, context: unknown, info: GraphQLResolveInfo): unknown => {
    if (value === null || value === undefined || value instanceof Error || isPromiseLike(value)) return value;
    if (Array.isArray(value)) return value.map((element) => screen(element, context, info));
    const name = resolveType(value, context, info, type);
    if (typeof name !== "string") return value;
    const check = checks.get(name);
    const auth = authOf(context);
    const failure = check?.(auth);
    if (!failure) return value;
    const coordinate = `${info.parentType.name}.${info.fieldName}`;
    return refused(failure, auth, coordinate, `An element of ${coordinate}`, onRefusal);
  };
  return {
    ...field,
    resolve(source, args, context, info) {
      const result = resolve(source, args, context, info);
      return isPromiseLike(result) ? Promise.resolve(result).then((value) => screen(value, context, info)) : screen(result, context, info);
    },
  };
}

/**
 * An abstract type whose resolveType refuses an element of a guarded type the caller fails: that
 * element is null, with the error at its path. The message names the field and what the element
 * needs, not the element's type: the type's name is what a guarded type hides. No closure per
 * call unless resolveType answers with a promise.
 */
function guardResolveType(type: GraphQLAbstractType, checks: Map<string, Check>, onRefusal: RequiresKeyOptions["onRefusal"]): GraphQLAbstractType {
  const resolveType: GraphQLTypeResolver<unknown, unknown> = type.resolveType ?? defaultTypeResolver;
  const judge = (name: string | undefined, context: unknown, info: GraphQLResolveInfo): string | undefined => {
    const check = name === undefined ? undefined : checks.get(name);
    if (check === undefined) return name;
    const auth = authOf(context);
    const failure = check(auth);
    if (failure) {
      const field = `${info.parentType.name}.${info.fieldName}`;
      throw refused(failure, auth, field, `An element of ${field}`, onRefusal);
    }
    return name;
  };
  const guarded: GraphQLTypeResolver<unknown, unknown> = (value, context, info, abstractType) => {
    const resolved = resolveType(value, context, info, abstractType);
    return isPromiseLike(resolved) ? Promise.resolve(resolved).then((name) => judge(name, context, info)) : judge(resolved, context, info);
  };
  return isInterfaceType(type)
    ? new GraphQLInterfaceType({ ...type.toConfig(), resolveType: guarded })
    : new GraphQLUnionType({ ...type.toConfig(), resolveType: guarded });
}

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | undefined)?.then === "function";

function authOf(context: unknown): Auth | undefined {
  return (context as { auth?: Auth } | undefined)?.auth;
}

/** The refusal as a GraphQLError whose message begins with `subject`; `onRefusal` hears of it first. */
function refused(
  failure: Failure,
  auth: Auth | undefined,
  coordinate: string,
  subject: string,
  onRefusal: RequiresKeyOptions["onRefusal"],
  at?: FieldErrorPlace,
): GraphQLError {
  onRefusal?.({ auth, reason: failure.reason, coordinate });
  switch (failure.reason) {
    case "KEY_MISSING":
      return keyMissing(subject, at);
    case "CLIENT_TYPE_NOT_ALLOWED":
      return clientTypeNotAllowed(subject, failure.allowed, at);
    case "SCOPE_MISSING":
      return scopeMissing(subject, failure.missing, at);
    default:
      return assertNever(failure);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
