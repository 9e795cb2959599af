import { GraphQLError, Kind, parse, visit, type ASTNode, type DocumentNode } from "graphql";

/** A coercion or validation error about an input value, as Keyscope answers it. */
export interface InputErrorDetails {
  /** The input field at fault, named as the services name it: `expiresAt`, `rateLimit.limit`, `filter.userId`. */
  field: string;
  /** graphql-js's message without the value it repeats (which may be a secret: the import `value`). */
  message: string;
}

/**
 * For graphql-js's errors about input (variable coercion: `Variable "$input" got invalid value …
 * at "input.expiresAt"`; literal validation: `Expected value of type "DateTime", found …`), the
 * input field they concern and a message that names it instead of repeating the value. The path
 * comes from the operation itself (the error's source), where the variable or literal is used.
 * Undefined for errors about anything else.
 */
export function describeInputError(error: GraphQLError): InputErrorDetails | undefined {
  const document = parseQuietly(error.source?.body);
  if (!document) return undefined;
  const variable = VARIABLE.exec(error.message);
  if (variable) return describeVariableError(error, document, variable[1]!);
  return describeLiteralError(error, document);
}

/** Argument paths as the services name fields: `input.rateLimit.limit` is `rateLimit.limit`. */
export function serviceFieldName(path: readonly string[]): string {
  const names = path[0] === "input" && path.length > 1 ? path.slice(1) : path;
  return names.join(".");
}

/** `Variable "$name" …`: graphql-js starts every variable error so; names are GraphQL names. */
const VARIABLE = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" /;
/** A path inside a variable as graphql-js prints it: `input.scopes[0]`. */
const PRINTED_PATH = / at "([_A-Za-z][_0-9A-Za-z]*(?:\.[_A-Za-z][_0-9A-Za-z]*|\[\d+\])*)"$/;
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

function describeVariableError(error: GraphQLError, document: DocumentNode, name: string): InputErrorDetails | undefined {
  const usage = variableUsagePath(document, name);
  if (!usage) return undefined;
  const invalid = `Variable "$${name}" got invalid value `;
  if (!error.message.startsWith(invalid)) {
    // "… of required type "X!" was not provided.", "… must not be null.", "… used in position expecting …": no value in them.
    return { field: serviceFieldName(usage), message: error.message };
  }
  const reason = error.originalError?.message;
  const suffix = `; ${reason}`;
  if (reason === undefined || reason === error.message || !error.message.endsWith(suffix)) {
    return { field: serviceFieldName(usage), message: `Variable "$${name}" got an invalid value.` };
  }
  // Between the prefix and the reason: the value (dropped), then ` at "name.path"` when nested.
  const printed = PRINTED_PATH.exec(error.message.slice(0, -suffix.length));
  const inner = printed && printed[1]!.startsWith(name) ? pathNames(printed[1]!.slice(name.length)) : [];
  const named = fieldNamedBy(reason);
  const field = serviceFieldName([...usage, ...inner, ...(named ? [named] : [])]);
  return { field, message: `Variable "$${name}" got an invalid value${printed ? ` at "${printed[1]}"` : ""}: ${withoutValues(reason)}` };
}

function describeLiteralError(error: GraphQLError, document: DocumentNode): InputErrorDetails | undefined {
  const required = REQUIRED_ARGUMENT.exec(error.message);
  if (required) return { field: required[1]!, message: error.message };
  for (const node of [...(error.nodes ?? [])].reverse()) {
    const path = argumentPath(document, node);
    if (!path) continue;
    const missing = REQUIRED_FIELD.exec(error.message);
    const field = serviceFieldName(missing ? [...path, missing[1]!] : path);
    const reason = error.originalError && error.originalError !== error ? error.originalError.message : undefined;
    return { field, message: withoutValues(error.message, reason) };
  }
  return undefined;
}

/** `Field "createApiKey" argument "input" of type "CreateApiKeyInput!" is required, but it was not provided.` */
const REQUIRED_ARGUMENT = /^(?:Field|Directive) "[^"]+" argument "([_A-Za-z][_0-9A-Za-z]*)" of type "[^"]+" is required, but it was not provided\.$/;
/** Literals: `Field "CreateApiKeyInput.name" of required type "String!" was not provided.` */
const REQUIRED_FIELD = /^Field "[_A-Za-z][_0-9A-Za-z]*\.([_A-Za-z][_0-9A-Za-z]*)" of required type /;
/** Variables: `Field "name" of required type …` and `Field "nope" is not defined by type …`. */
const NAMED_FIELD = /^Field "([^"]*)" (?:of required type |is not defined by type )/;

function fieldNamedBy(reason: string): string | undefined {
  const named = NAMED_FIELD.exec(reason)?.[1];
  return named !== undefined && NAME.test(named) ? named : undefined;
}

/**
 * graphql-js's value-repeating phrasings, without the value: `Expected value of type "T", found
 * <value>`, `<Scalar> cannot represent … value: <value>`, `Value <value> does not exist in "E"
 * enum.`, and `Field "<key>" is not defined` for a key that is not a GraphQL name.
 */
export function withoutValues(message: string, reason?: string): string {
  const expected = /^Expected value of type "([^"]+)", found /.exec(message);
  if (expected) {
    if (reason !== undefined && message.endsWith(`; ${reason}`)) return `Expected a value of type "${expected[1]}": ${withoutValues(reason)}`;
    return message === `${expected[0]}null.` ? message : `Expected a value of type "${expected[1]}".`;
  }
  const cannot = /^((?:Int|Float|String|Boolean|ID|Enum "[_A-Za-z][_0-9A-Za-z]*") cannot represent [^:]*?value): /.exec(message);
  if (cannot) return `${cannot[1]}.`;
  const enumValue = /^Value [\s\S]* does not exist in "([_A-Za-z][_0-9A-Za-z]*)" enum\.((?: Did you mean [^?]*\?)?)$/.exec(message);
  if (enumValue) return `This value does not exist in the "${enumValue[1]}" enum.${enumValue[2]}`;
  const undefinedField = /^Field "([^"]*)" is not defined by type "([_A-Za-z][_0-9A-Za-z]*)"\./.exec(message);
  if (undefinedField && !NAME.test(undefinedField[1]!)) return `A field is not defined by type "${undefinedField[2]}".`;
  return message;
}

/** `.a.b[0].c` → [a, b, c]: list positions name no field. */
function pathNames(printed: string): string[] {
  return printed.split(/\.|\[\d+\]/).filter((part) => part !== "");
}

/** Where `$name` is first used: the argument and the input fields around it. */
function variableUsagePath(document: DocumentNode, name: string): string[] | undefined {
  let found: string[] | undefined;
  visit(document, {
    Variable(node, _key, parent, _path, ancestors) {
      if (found || node.name.value !== name) return;
      const path = namesAlong([...ancestors, ...(parent ? [parent] : [])], node);
      // The variable's own definition is not a usage.
      if (path) found = path;
    },
  });
  return found;
}

/** The argument path of the node at the same place as `target`, when it lies inside an argument. */
function argumentPath(document: DocumentNode, target: ASTNode): string[] | undefined {
  const start = target.loc?.start;
  if (start === undefined) return undefined;
  let found: string[] | undefined;
  visit(document, {
    enter(node, _key, parent, _path, ancestors) {
      if (found || node.kind !== target.kind || node.loc?.start !== start) return;
      found = namesAlong([...ancestors, ...(parent ? [parent] : [])], node);
    },
  });
  return found;
}

/**
 * Argument and input-field names from the argument down to `node` (graphql's `visit` gives the
 * ancestors without the parent: callers add it); undefined outside arguments.
 */
function namesAlong(ancestors: readonly (ASTNode | readonly ASTNode[])[], node: ASTNode): string[] | undefined {
  const names: string[] = [];
  let inArgument = false;
  for (const step of [...ancestors, node]) {
    if (Array.isArray(step) || !("kind" in step)) continue;
    const astNode = step as ASTNode;
    if (astNode.kind === Kind.ARGUMENT) {
      inArgument = true;
      names.length = 0;
      names.push(astNode.name.value);
    } else if (astNode.kind === Kind.OBJECT_FIELD && inArgument) names.push(astNode.name.value);
  }
  return inArgument ? names : undefined;
}

function parseQuietly(body: string | undefined): DocumentNode | undefined {
  if (body === undefined) return undefined;
  try {
    return parse(body);
  } catch {
    return undefined;
  }
}
