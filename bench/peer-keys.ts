// How the peers look a key up: SHA-256 of the presented header → Map, the simplest store a team
// would write beside graphql-shield, generic-auth or mercurius-auth. Keys are in Keyscope's
// format, so every stack reads a header of the same length.
import { hash } from "node:crypto";
import { generateKey } from "../src/keys/key-format.ts";
import { PARTNER_CLIENT_TYPE, STOCK_SCOPE } from "./products.ts";

export interface Principal {
  clientType: string;
  scopes: ReadonlySet<string>;
}

/** The two keys every auth stack hands the parent: one passes every guard, one fails both. */
export interface BenchKeys {
  /** Client type partner, scope stock:read. */
  good: string;
  /** Client type mobile, no scopes: `cost` and `stock` are refused. */
  denied: string;
}

export interface PeerKeyStore {
  keys: BenchKeys;
  /** The principal of a presented key, or undefined for no key or an unknown one. */
  lookUp(presented: string | undefined | null): Principal | undefined;
}

export function createPeerKeyStore(): PeerKeyStore {
  const keys: BenchKeys = { good: generateKey("ks"), denied: generateKey("ks") };
  const byHash = new Map<string, Principal>([
    [sha256(keys.good), { clientType: PARTNER_CLIENT_TYPE, scopes: new Set([STOCK_SCOPE]) }],
    [sha256(keys.denied), { clientType: "mobile", scopes: new Set() }],
  ]);
  return {
    keys,
    lookUp: (presented) => (presented ? byHash.get(sha256(presented)) : undefined),
  };
}

function sha256(key: string): string {
  return hash("sha256", key, "hex");
}
