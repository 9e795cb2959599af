import { isIP } from "node:net";

/**
 * One spelling per address, so that a client has one throttle bucket and one audit spelling
 * however it arrives: IPv4 as is, IPv4-mapped IPv6 (`::ffff:10.0.0.1`, `::ffff:a00:1`) as
 * IPv4, other IPv6 compressed in lower case. A port (`1.2.3.4:5678`, `[2001:db8::1]:443`, as
 * some proxies write X-Forwarded-For) is dropped. Null when it is not an IP address at all.
 */
export function canonicalAddress(text: string): string | null {
  // The socket's own address, on an IPv4 or a dual-stack listener: the hot paths.
  if (text.startsWith("::ffff:") && isIP(text.slice(7)) === 4) return text.slice(7);
  const family = isIP(text);
  if (family === 4) return text;
  if (family === 6) return canonicalIPv6(text);
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? canonicalIPv6(bracketed[1]!) : null;
  const withPort = /^([\d.]+):\d{1,5}$/.exec(text);
  if (withPort && isIP(withPort[1]!) === 4) return withPort[1]!;
  return null;
}

const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

function canonicalIPv6(text: string): string {
  const lower = text.toLowerCase();
  // The socket's address on a dual-stack listener: `::ffff:` and IPv4.
  if (lower.startsWith("::ffff:") && isIP(lower.slice(7)) === 4) return lower.slice(7);
  // A zone (fe80::1%eth0) is kept as written: URL cannot spell it.
  if (lower.includes("%")) return lower;
  // WHATWG URL serialises IPv6 in its canonical form (RFC 5952).
  const canonical = new URL(`http://[${lower}]/`).hostname.slice(1, -1);
  const hex = MAPPED_HEX.exec(canonical);
  if (!hex) return canonical;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** `ipv4` or `ipv6`, as node:net's BlockList wants it; undefined for what is not an address. */
export function familyOf(address: string): "ipv4" | "ipv6" | undefined {
  const family = isIP(address);
  return family === 4 ? "ipv4" : family === 6 ? "ipv6" : undefined;
}
