import type { BlockList } from "node:net";
import { canonicalAddress, familyOf } from "./ip-address.ts";
import { parseTrustedProxies } from "./trusted-proxies.ts";

/** Which peers may speak for the client in X-Forwarded-For. */
export interface ProxyTrust {
  /** At most this many proxies are trusted (0: no limit when `proxies` is set, none otherwise). */
  hops: number;
  /** Whether an address (canonical) is one of the trusted proxies; undefined: any is (within `hops`). */
  isProxy: ((address: string) => boolean) | undefined;
}

export const NO_PROXY_TRUST: ProxyTrust = Object.freeze({ hops: 0, isProxy: undefined });

/** The trust from configuration: `KEYSCOPE_TRUST_PROXY_HOPS` and `KEYSCOPE_TRUSTED_PROXIES`. */
export function proxyTrust(hops: number, trustedProxies: readonly string[]): ProxyTrust {
  return { hops, isProxy: trustedProxies.length > 0 ? rememberingCheck(parseTrustedProxies(trustedProxies)) : undefined };
}

/** Verdicts kept at most; then forgotten all at once (a cheap bound, rebuilt in a moment). */
const REMEMBERED_VERDICTS = 10_000;

/**
 * BlockList.check with a string builds a SocketAddress, ~5 µs: a request's peer (the proxy) and
 * its clients repeat, so each address's verdict is kept.
 */
function rememberingCheck(list: BlockList): (address: string) => boolean {
  const verdicts = new Map<string, boolean>();
  return (address) => {
    let verdict = verdicts.get(address);
    if (verdict === undefined) {
      const family = familyOf(address);
      verdict = family !== undefined && list.check(address, family);
      if (verdicts.size >= REMEMBERED_VERDICTS) verdicts.clear();
      verdicts.set(address, verdict);
    }
    return verdict;
  };
}

/**
 * The client's address. Without a trusted socket peer, the socket's. Otherwise X-Forwarded-For
 * is walked from the right (the entry the nearest proxy wrote) past every trusted proxy; the
 * first address not trusted is the client. Entries to its left are the client's own claims and
 * are never read. A malformed entry stops the walk at the proxy that passed it on. Addresses
 * are canonical (ip-address.ts): `::ffff:10.0.0.1` is `10.0.0.1`.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trust: ProxyTrust): string | null {
  if (socketAddress === undefined) return null;
  const peer = canonicalAddress(socketAddress) ?? socketAddress;
  if (forwardedFor === undefined || !trusted(trust, peer, 0)) return peer;
  const entries = (typeof forwardedFor === "string" ? forwardedFor : forwardedFor.join(",")).split(",");
  let nearest = peer;
  for (let i = entries.length - 1, hop = 1; i >= 0; i--) {
    const text = entries[i]!.trim();
    if (text === "") continue;
    const entry = canonicalAddress(text);
    if (entry === null) return nearest;
    if (!trusted(trust, entry, hop++)) return entry;
    nearest = entry;
  }
  // Every entry was a trusted proxy: the leftmost is as far as anyone can see.
  return nearest;
}

/** Whether the `hop`th address from Keyscope (0: the socket peer) is a proxy to believe. */
function trusted(trust: ProxyTrust, address: string, hop: number): boolean {
  if (trust.hops > 0 && hop >= trust.hops) return false;
  return trust.isProxy ? trust.isProxy(address) : trust.hops > 0;
}
