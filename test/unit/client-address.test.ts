// The client's address behind proxies: which X-Forwarded-For entries count, for which peers.
// Examples, then properties over generated chains of proxies and client claims.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clientAddress, NO_PROXY_TRUST, proxyTrust, type ProxyTrust } from "../../src/http/client-address.ts";
import { canonicalAddress } from "../../src/http/ip-address.ts";
import { parseTrustedProxies } from "../../src/http/trusted-proxies.ts";

const PROXY = "10.0.0.5";
const OTHER_PROXY = "10.0.0.6";
const CLIENT = "203.0.113.7";
const ATTACKER = "198.51.100.66";
/** The proxies in 10/8 are ours; hop count unlimited. */
const ours = proxyTrust(0, ["10.0.0.0/8"]);

describe("canonicalAddress", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::FFFF:10.1.2.3", "10.1.2.3"],
    ["::ffff:a01:203", "10.1.2.3"],
    ["0:0:0:0:0:ffff:a01:203", "10.1.2.3"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8::1", "2001:db8::1"],
    ["::1", "::1"],
    ["1.2.3.4:5678", "1.2.3.4"],
    ["[2001:db8::1]:443", "2001:db8::1"],
    ["[::ffff:1.2.3.4]", "1.2.3.4"],
    ["fe80::1%eth0", "fe80::1%eth0"],
  ])("%s is %s", (text, expected) => {
    expect(canonicalAddress(text)).toBe(expected);
  });

  it.each(["", "unknown", "spoofed", "1.2.3", "256.1.1.1", "01.2.3.4", "1.2.3.4.5", "[1.2.3.4]", "::ffff:zz", "1.2.3.4:", "<script>", "_hidden"])(
    "%j is not an address",
    (text) => {
      expect(canonicalAddress(text)).toBeNull();
    },
  );
});

describe("parseTrustedProxies", () => {
  it("matches addresses, CIDR ranges of both families, mapped forms both ways, and named ranges", () => {
    const list = parseTrustedProxies(["192.0.2.1", "10.0.0.0/8", "2001:db8::/32", "::ffff:172.16.0.0/108", "loopback"]);
    const check = (a: string) => list.check(a, a.includes(":") ? "ipv6" : "ipv4");
    for (const inside of ["192.0.2.1", "10.255.0.1", "2001:db8:ffff::1", "172.16.9.9", "::ffff:10.1.1.1", "127.0.0.1", "127.9.9.9", "::1"]) {
      expect(check(inside), inside).toBe(true);
    }
    for (const outside of ["192.0.2.2", "11.0.0.1", "2001:db9::1", "172.32.0.1", "::2", "203.0.113.7"]) expect(check(outside), outside).toBe(false);
  });

  it("names the position of the first bad entry, not its text", () => {
    expect(() => parseTrustedProxies(["10.0.0.1", "evil.example"])).toThrow(/^entry 2 is not one of/);
    expect(() => parseTrustedProxies(["10.0.0.1", "evil.example"])).not.toThrow(/evil/);
  });
});

describe("clientAddress", () => {
  it("without trust: the socket's address, whatever X-Forwarded-For says", () => {
    expect(clientAddress(CLIENT, `${ATTACKER}`, NO_PROXY_TRUST)).toBe(CLIENT);
    expect(clientAddress("::ffff:203.0.113.7", undefined, NO_PROXY_TRUST)).toBe(CLIENT);
    expect(clientAddress(undefined, ATTACKER, NO_PROXY_TRUST)).toBeNull();
  });

  it("with trusted proxies: a peer that is not one of them cannot set its address", () => {
    expect(clientAddress(ATTACKER, CLIENT, ours)).toBe(ATTACKER);
    expect(clientAddress(ATTACKER, `${CLIENT}, ${PROXY}`, ours)).toBe(ATTACKER);
  });

  it("with trusted proxies: from a trusted peer, the entry it wrote", () => {
    expect(clientAddress(PROXY, CLIENT, ours)).toBe(CLIENT);
    // What the client claimed to the left of it does not count.
    expect(clientAddress(PROXY, `${ATTACKER}, ${CLIENT}`, ours)).toBe(CLIENT);
    // The socket peer in its IPv4-mapped spelling is the same proxy.
    expect(clientAddress(`::ffff:${PROXY}`, CLIENT, ours)).toBe(CLIENT);
  });

  it("walks past every trusted proxy in a chain, and stops at the first that is not", () => {
    expect(clientAddress(PROXY, `${CLIENT}, ${OTHER_PROXY}`, ours)).toBe(CLIENT);
    expect(clientAddress(PROXY, [`${ATTACKER}, ${CLIENT}`, OTHER_PROXY], ours)).toBe(CLIENT);
    // A client that writes a proxy address of ours gains nothing: the entries are read right to left.
    expect(clientAddress(PROXY, `${OTHER_PROXY}, ${CLIENT}`, ours)).toBe(CLIENT);
    // Only trusted proxies all the way: the leftmost is the client as far as anyone can tell.
    expect(clientAddress(PROXY, `${OTHER_PROXY}, 10.9.9.9`, ours)).toBe(OTHER_PROXY);
  });

  it("a malformed entry stops the walk at the proxy that passed it on", () => {
    expect(clientAddress(PROXY, "unknown", ours)).toBe(PROXY);
    expect(clientAddress(PROXY, `${CLIENT}, garbage, ${OTHER_PROXY}`, ours)).toBe(OTHER_PROXY);
    expect(clientAddress(PROXY, "", ours)).toBe(PROXY);
    expect(clientAddress(PROXY, " , ,", ours)).toBe(PROXY);
    // Ports and brackets, as some proxies write them, are addresses.
    expect(clientAddress(PROXY, `${CLIENT}:51234`, ours)).toBe(CLIENT);
    expect(clientAddress(PROXY, "[2001:db8::7]:443", ours)).toBe("2001:db8::7");
  });

  it("KEYSCOPE_TRUST_PROXY_HOPS alone: as before, the entry the outermost of N proxies wrote, from any peer", () => {
    const two = proxyTrust(2, []);
    expect(clientAddress(ATTACKER, `${ATTACKER}, ${CLIENT}, ${PROXY}`, two)).toBe(CLIENT);
    expect(clientAddress(PROXY, `spoofed, ${CLIENT}`, proxyTrust(1, []))).toBe(CLIENT);
    // Fewer entries than proxies: the first is the client.
    expect(clientAddress(PROXY, CLIENT, two)).toBe(CLIENT);
  });

  it("hops and proxies together: at most N proxies, each of them trusted", () => {
    const one = proxyTrust(1, ["10.0.0.0/8"]);
    expect(clientAddress(PROXY, `${CLIENT}, ${OTHER_PROXY}`, one)).toBe(OTHER_PROXY);
    expect(clientAddress(ATTACKER, CLIENT, one)).toBe(ATTACKER);
    const two = proxyTrust(2, ["10.0.0.0/8"]);
    expect(clientAddress(PROXY, `${CLIENT}, ${OTHER_PROXY}`, two)).toBe(CLIENT);
    // The second hop must be trusted too.
    expect(clientAddress(PROXY, `${CLIENT}, ${ATTACKER}`, two)).toBe(ATTACKER);
  });

  it("answers right however many addresses it has seen (it remembers a bounded number of verdicts)", () => {
    const trust = proxyTrust(0, ["10.0.0.0/8"]);
    for (let n = 0; n < 25_000; n++) {
      const inside = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      const outside = `11.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      expect(clientAddress(inside, CLIENT, trust)).toBe(CLIENT);
      expect(clientAddress(outside, CLIENT, trust)).toBe(outside);
    }
  });

  it("IPv6 proxies and clients, in any spelling", () => {
    const v6 = proxyTrust(0, ["fd00::/8"]);
    expect(clientAddress("fd00::5", "2001:DB8::0:1", v6)).toBe("2001:db8::1");
    expect(clientAddress("2001:db8::66", "2001:db8::1", v6)).toBe("2001:db8::66");
    expect(clientAddress("fd00::5", "::ffff:203.0.113.7", v6)).toBe(CLIENT);
  });
});

describe("clientAddress over generated chains", () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));
  const untrusted = v4.filter((a) => !a.startsWith("10."));
  const trustedProxy = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => `10.${p.join(".")}`);
  const claim = fc.oneof(v4, fc.constantFrom("unknown", "", "spoofed", "::1", "[::1]:80"));

  it("from an untrusted peer the answer is always the peer, whatever the header", () => {
    fc.assert(
      fc.property(untrusted, fc.array(claim, { maxLength: 6 }), (peer, entries) => {
        expect(clientAddress(peer, entries.join(", "), ours)).toBe(peer);
      }),
    );
  });

  it("behind a chain of trusted proxies, the client's claims never change the answer", () => {
    fc.assert(
      fc.property(untrusted, fc.array(trustedProxy, { minLength: 1, maxLength: 4 }), fc.array(claim, { maxLength: 5 }), (client, chain, claims) => {
        // The client sends its claims; each proxy appends whom it heard from.
        const [peer, ...written] = [...chain].reverse();
        const header = [...claims, client, ...written.reverse()].join(", ");
        expect(clientAddress(peer, header, ours)).toBe(client);
      }),
    );
  });

  it("hops alone agree with the former rule: the entry N-1 from the right, or the first", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(v4, { minLength: 1, maxLength: 6 }), (hops, entries) => {
        const trust: ProxyTrust = proxyTrust(hops, []);
        const expected = entries[entries.length - hops] ?? entries[0];
        expect(clientAddress(PROXY, entries.join(","), trust)).toBe(expected);
      }),
    );
  });
});
