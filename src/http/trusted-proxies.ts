import { BlockList } from "node:net";
import { canonicalAddress, familyOf } from "./ip-address.ts";

/** Names for the ranges proxies usually live in (as Express's `trust proxy` has them). */
export const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  loopback: ["127.0.0.0/8", "::1/128"],
  linklocal: ["169.254.0.0/16", "fe80::/10"],
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
});

/** What an entry of a trusted-proxy list must be: said by the configuration's error. */
export const TRUSTED_PROXY_FORMAT = "IP addresses or CIDR ranges (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8) or loopback, linklocal, private";

/**
 * The proxies in a list of addresses, CIDR ranges (IPv4, IPv6, IPv4-mapped `::ffff:10.0.0.0/104`)
 * and named ranges, as a node:net BlockList to `check` addresses against. Throws a RangeError
 * naming the position of the first bad entry (never its text: the caller decides what to echo).
 */
export function parseTrustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  entries.forEach((raw, index) => {
    const entry = raw.trim();
    const named = NAMED_RANGES[entry.toLowerCase()];
    const ranges = named ?? [entry];
    for (const range of ranges) {
      if (!addRange(list, range)) throw new RangeError(`entry ${index + 1} is not one of ${TRUSTED_PROXY_FORMAT}`);
    }
  });
  return list;
}

/** Adds `address` or `address/prefix`; false when it is neither. */
function addRange(list: BlockList, range: string): boolean {
  const slash = range.indexOf("/");
  const rawAddress = slash === -1 ? range : range.slice(0, slash);
  // A plain address: no port, brackets or zone (canonicalAddress forgives the first two).
  if (familyOf(rawAddress) === undefined || rawAddress.includes("%")) return false;
  const address = canonicalAddress(rawAddress)!;
  const family = familyOf(address)!;
  if (slash === -1) {
    list.addAddress(address, family);
    return true;
  }
  const prefixText = range.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return false;
  let prefix = Number(prefixText);
  // An IPv4-mapped range was spelt as IPv6: its prefix counts the 96 bits of ::ffff: too.
  if (family === "ipv4" && familyOf(rawAddress) === "ipv6") {
    if (prefix < 96) return false;
    prefix -= 96;
  }
  if (prefix > (family === "ipv4" ? 32 : 128)) return false;
  list.addSubnet(address, prefix, family);
  return true;
}
