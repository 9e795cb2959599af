import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BASE62,
  checksum,
  classifyKey,
  generateKey,
  hashKey,
  isValidImportedValue,
  keyStart,
} from "../../src/keys/key-format.ts";

/** Bit-by-bit CRC32 (IEEE 802.3, reflected, poly 0xEDB88320), independent of zlib. */
function referenceCrc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, "utf8")) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function toBase62(value: number): string {
  let out = "";
  do {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  } while (value > 0);
  return out.padStart(6, "0");
}

describe("key format", () => {
  it("is ks_ + 32 base62 + 6 checksum characters, 41 in all", () => {
    const key = generateKey("ks");
    expect(key).toMatch(/^ks_[0-9A-Za-z]{38}$/);
    expect(key).toHaveLength(41);
  });

  it("checksum is CRC32 of everything before it, in base62, padded", () => {
    expect(referenceCrc32("123456789")).toBe(0xcbf43926); // the published check value
    for (let i = 0; i < 200; i++) {
      const key = generateKey("ks");
      const body = key.slice(0, 35);
      expect(key.slice(35)).toBe(toBase62(referenceCrc32(body)));
    }
    expect(checksum("123456789")).toBe(toBase62(0xcbf43926));
    expect(checksum("")).toBe("000000"); // CRC32 of nothing is 0: padding shows
  });

  it("draws every base62 character, roughly evenly", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      for (const c of generateKey("ks").slice(3, 35)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    const expected = (2000 * 32) / 62;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.15);
  });

  it("honours a configured prefix", () => {
    const key = generateKey("acme2");
    expect(key).toMatch(/^acme2_[0-9A-Za-z]{38}$/);
    expect(classifyKey(key, "acme2")).toEqual({ kind: "generated" });
    expect(keyStart(key, "acme2")).toBe(key.slice(0, 10));
  });
});

function swapFirstDifferentNeighbours(key: string): string {
  let i = 3;
  while (key[i] === key[i + 1]) i++;
  return key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
}

describe("classifyKey", () => {
  const good = generateKey("ks");

  it("accepts a generated key", () => {
    expect(classifyKey(good, "ks")).toEqual({ kind: "generated" });
  });

  it.each([
    ["one changed character", good.slice(0, 10) + (good[10] === "a" ? "b" : "a") + good.slice(11)],
    ["a wrong checksum", good.slice(0, 35) + "000000"],
    ["one character short", good.slice(0, 40)],
    ["one character long", good + "a"],
    ["a character outside base62", good.slice(0, 5) + "-" + good.slice(6)],
    ["the prefix alone", "ks_"],
    ["swapped neighbours", swapFirstDifferentNeighbours(good)],
  ])("rejects a prefixed string with %s", (_, presented) => {
    expect(classifyKey(presented, "ks")).toEqual({ kind: "malformed" });
  });

  it("treats other strings of 16–256 printable characters as import candidates", () => {
    expect(classifyKey("legacy-key-0123456789", "ks")).toEqual({ kind: "imported" });
    expect(classifyKey("x".repeat(256), "ks")).toEqual({ kind: "imported" });
  });

  it.each([
    ["too short", "short-key"],
    ["too long", "x".repeat(257)],
    ["with a blank", "legacy key 0123456789"],
    ["with a tab", "legacy\tkey0123456789"],
    ["with a control character", "legacy\u0007key0123456789"],
    ["empty", ""],
  ])("calls a string %s malformed", (_, presented) => {
    expect(classifyKey(presented, "ks")).toEqual({ kind: "malformed" });
    expect(isValidImportedValue(presented)).toBe(false);
  });
});

describe("hashKey and keyStart", () => {
  it("uses HMAC-SHA256 with a secret and SHA-256 without", () => {
    const key = generateKey("ks");
    expect(hashKey(key, "s3cret")).toBe(createHmac("sha256", "s3cret").update(key).digest("hex"));
    expect(hashKey(key, undefined)).toBe(createHash("sha256").update(key).digest("hex"));
    expect(hashKey(key, "s3cret")).not.toBe(hashKey(key, "other"));
  });

  it("shows the prefix and 4 characters of a generated key, 4 of an imported one", () => {
    const key = generateKey("ks");
    expect(keyStart(key, "ks")).toBe(key.slice(0, 7));
    expect(keyStart("legacy-key-0123456789", "ks")).toBe("lega");
  });
});
