import type { KeySources } from "../config.ts";
import { keyRejected, keyStoreUnavailable } from "../graphql/errors.ts";
import { readPresentedKey, type KeyCarrier } from "../http/read-key.ts";
import type { AuthenticatedKey } from "./credential.ts";
import { KeyStoreUnavailableError, type KeyVerifier } from "./verify-key.ts";

/** What Keyscope puts in the GraphQL context; the directive and resolvers read `auth`. */
export interface KeyscopeContext {
  auth: Auth;
}

export interface Auth {
  /** The verified calling key; null when the request carried none. */
  key: AuthenticatedKey | null;
  /** The client's address, for the audit trail. */
  clientAddress: string | null;
}

export interface KeyRequest extends KeyCarrier {
  clientAddress: string | null;
}

export interface ContextOptions {
  verifier: KeyVerifier;
  keySources: KeySources;
}

/**
 * Builds the request's auth. A presented key that fails throws a 401 GraphQLError for the
 * whole request; no key at all is fine here (guarded fields refuse it one by one).
 */
export function createAuthResolver(options: ContextOptions): (request: KeyRequest) => Promise<Auth> {
  const { verifier, keySources } = options;
  return async (request) => {
    const presented = readPresentedKey(request, keySources);
    if (presented.kind === "none") return { key: null, clientAddress: request.clientAddress };
    if (presented.kind === "rejected") throw keyRejected(presented.reason);
    let result;
    try {
      result = await verifier.verify(presented.key);
    } catch (error) {
      if (error instanceof KeyStoreUnavailableError) throw keyStoreUnavailable();
      throw error;
    }
    if (!result.ok) throw keyRejected(result.reason);
    return { key: result.key, clientAddress: request.clientAddress };
  };
}
