import { getDirective, MapperKind, mapSchema } from "@graphql-tools/utils";
import {
  defaultFieldResolver,
  GraphQLError,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from "graphql";
import type { Auth } from "../auth/context.ts";
import { clientTypeNotAllowed, keyMissing, scopeMissing } from "./errors.ts";
import { readSchemaFile } from "./schema-files.ts";

/** The directive's SDL, to add to your typeDefs. */
export const requiresKeyTypeDefs = readSchemaFile("directive.graphql");

/** `clientType` and scope names (SPEC §1). */
export const NAME_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** What one field needs, all guards on it added up. */
interface Requirement {
  /** Each list must contain the key's client type. */
  clientTypeLists: string[][];
  /** The key must hold all of them. */
  scopes: string[];
}

export class DirectiveError extends Error {
  override name = "DirectiveError";
}

/**
 * Schema in, schema out: every field that a `@requiresKey` covers (on itself, its type, or an
 * interface of its type) checks `context.auth` before its resolver runs. Unguarded fields are
 * left as they are. Throws a DirectiveError naming `Type.field` for invalid arguments.
 */
export function requiresKeyTransform(schema: GraphQLSchema): GraphQLSchema {
  const requirements = collectRequirements(schema);
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const requirement = requirements.get(`${typeName}.${fieldName}`);
      return requirement ? guardField(field, requirement, `${typeName}.${fieldName}`) : field;
    },
  });
}

type Guard = { clientTypes?: string[]; scopes?: string[] };

function collectRequirements(schema: GraphQLSchema): Map<string, Requirement> {
  const requirements = new Map<string, Requirement>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type)) continue;
    if (isInterfaceType(type)) validateAll(schema, type);
    if (!isObjectType(type)) continue;
    const typeGuards = [readGuard(schema, type, type.name), ...type.getInterfaces().map((i) => readGuard(schema, i, i.name))];
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const fieldGuards = [
        readGuard(schema, field, coordinate),
        ...type.getInterfaces().map((i) => {
          const inherited = i.getFields()[field.name];
          return inherited ? readGuard(schema, inherited, `${i.name}.${field.name}`) : undefined;
        }),
      ];
      const requirement = combine([...typeGuards, ...fieldGuards]);
      if (requirement) requirements.set(coordinate, requirement);
    }
  }
  return requirements;
}

/** Interface fields are not executed, but their arguments must still be valid. */
function validateAll(schema: GraphQLSchema, type: GraphQLInterfaceType): void {
  readGuard(schema, type, type.name);
  for (const field of Object.values(type.getFields())) readGuard(schema, field, `${type.name}.${field.name}`);
}

type DirectiveHolder = Parameters<typeof getDirective>[1];

function readGuard(schema: GraphQLSchema, node: DirectiveHolder | GraphQLObjectType, where: string): Guard | undefined {
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

function combine(guards: (Guard | undefined)[]): Requirement | undefined {
  const present = guards.filter((g): g is Guard => g !== undefined);
  if (present.length === 0) return undefined;
  return {
    clientTypeLists: present.flatMap((g) => (g.clientTypes ? [g.clientTypes] : [])),
    scopes: [...new Set(present.flatMap((g) => g.scopes ?? []))],
  };
}

function guardField(
  field: GraphQLFieldConfig<unknown, unknown>,
  requirement: Requirement,
  coordinate: string,
): GraphQLFieldConfig<unknown, unknown> {
  const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
  // Synchronous on purpose: a refused field costs no promise, an allowed one only its own resolver.
  return {
    ...field,
    resolve(source, args, context, info) {
      const auth = (context as { auth?: Auth } | undefined)?.auth;
      const refusal = checkRequirement(auth, requirement, coordinate);
      if (refusal) {
        if (auth) auth.refusals++; // usage counts the request as rejected
        throw refusal;
      }
      return resolve(source, args, context, info);
    },
  };
}

/** The refusal for this caller, or undefined when every guard holds. */
function checkRequirement(auth: Auth | undefined, requirement: Requirement, coordinate: string): GraphQLError | undefined {
  const key = auth?.key;
  if (!key) return keyMissing(coordinate);
  for (const allowed of requirement.clientTypeLists) {
    if (!allowed.includes(key.clientType)) return clientTypeNotAllowed(coordinate, allowed);
  }
  const missing = requirement.scopes.filter((scope) => !key.scopes.has(scope));
  return missing.length > 0 ? scopeMissing(coordinate, missing) : undefined;
}
