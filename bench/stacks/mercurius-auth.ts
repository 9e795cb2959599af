// Peer: mercurius 16 + mercurius-auth 6 on Fastify 5: a @requiresKey directive on the guarded
// fields and an applyPolicy that checks it (the directive's arguments read once per AST node).
import type { DirectiveNode, ValueNode } from "graphql";
import Fastify from "fastify";
import mercurius from "mercurius";
import mercuriusAuthModule from "mercurius-auth";
import { createPeerKeyStore, type Principal } from "../peer-keys.ts";
import { PARTNER_CLIENT_TYPE, productResolvers, productTypeDefs, STOCK_SCOPE } from "../products.ts";
import { HOST, type RunningStack, type StackOptions } from "./running-stack.ts";

// The package is CommonJS (`module.exports = plugin`) but its typings say `export default`: under
// NodeNext the default import is the plugin at run time and `{ default: plugin }` to TypeScript.
const mercuriusAuth = mercuriusAuthModule as unknown as typeof mercuriusAuthModule.default;

const DIRECTIVE_SDL = "directive @requiresKey(clientTypes: [String!], scopes: [String!]) on FIELD_DEFINITION";

interface Requirement {
  clientTypes: string[] | undefined;
  scopes: string[];
}

export async function startMercuriusAuth(options: StackOptions): Promise<RunningStack> {
  const store = createPeerKeyStore();
  const schema = [
    DIRECTIVE_SDL,
    productTypeDefs({ cost: `@requiresKey(clientTypes: ["${PARTNER_CLIENT_TYPE}"])`, stock: `@requiresKey(scopes: ["${STOCK_SCOPE}"])` }),
  ].join("\n");
  const app = Fastify({ logger: false });
  await app.register(mercurius, { schema, resolvers: productResolvers });
  if (options.auth) {
    const requirements = new WeakMap<DirectiveNode, Requirement>();
    await app.register(mercuriusAuth, {
      authDirective: "requiresKey",
      authContext: (context) => ({ principal: store.lookUp(headerOf(context.reply.request.headers["x-api-key"])) }),
      applyPolicy: async (directive: DirectiveNode, _parent, _args, context) => {
        let requirement = requirements.get(directive);
        if (!requirement) requirements.set(directive, (requirement = readRequirement(directive)));
        const principal = context.auth?.principal as Principal | undefined;
        if (!principal) return false;
        if (requirement.clientTypes && !requirement.clientTypes.includes(principal.clientType)) return false;
        return requirement.scopes.every((scope) => principal.scopes.has(scope));
      },
    });
  }
  await app.listen({ port: 0, host: HOST });
  const { port } = app.server.address() as { port: number };
  return {
    ready: { url: `http://${HOST}:${port}/graphql`, ...(options.auth ? { keys: store.keys } : {}) },
    close: () => app.close(),
  };
}

function readRequirement(directive: DirectiveNode): Requirement {
  const list = (name: string) => {
    const value = directive.arguments?.find((a) => a.name.value === name)?.value;
    return value ? strings(value) : undefined;
  };
  return { clientTypes: list("clientTypes"), scopes: list("scopes") ?? [] };
}

function strings(value: ValueNode): string[] {
  if (value.kind === "ListValue") return value.values.flatMap(strings);
  return value.kind === "StringValue" ? [value.value] : [];
}

function headerOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
