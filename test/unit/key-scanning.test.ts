// Issue 13 §4: recognising leaked keys. The README's gitleaks rule is read from the README itself
// (TOML parsed for real) and its regex run with node's RegExp against generated keys and near
// misses: gitleaks is not installable here (not in Debian 12; the npm "gitleaks" is another
// tool). The pattern uses only what RE2 and JavaScript share (\b, a class, a count).
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { BASE62, checksum, generateKey } from "../../src/keys/key-format.ts";
import { keyPatternSource, maskCandidate, triageKey } from "../../src/keys/key-scanning.ts";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The one ```toml block of the README's secret-scanning section. */
function gitleaksRule(): { id: string; regex: string; keywords: string[] } {
  const section = readme.slice(readme.indexOf("## Secret scanning"));
  const block = /```toml\n([\s\S]*?)```/.exec(section);
  expect(block, "a ```toml block in ## Secret scanning").not.toBeNull();
  const config = parse(block![1]!) as { extend?: { useDefault?: boolean }; rules: { id: string; regex: string; keywords: string[] }[] };
  expect(config.extend?.useDefault, "the default rules are kept").toBe(true);
  expect(config.rules).toHaveLength(1);
  return config.rules[0]!;
}

/** Every match of `source` in `text`, as gitleaks would report them. */
function matches(source: string, text: string): string[] {
  return [...text.matchAll(new RegExp(source, "g"))].map((m) => m[0]);
}

const base62Char = fc.constantFrom(...BASE62);
const prefix = fc.stringMatching(/^[a-z][a-z0-9]{0,15}$/);
/** Characters that may stand next to a key in a file: anything but a word character. */
const separator = fc.constantFrom(" ", "\n", "\t", '"', "'", "=", ":", ",", ";", "(", ")", "[", "]", "{", "}", "<", ">", "/", "&", "?", "#", "`", "-", ".", "+");

describe("the README's gitleaks rule", () => {
  const rule = gitleaksRule();

  it("is the server's own key pattern for the default prefix, with the prefix as its keyword", () => {
    expect(rule.id).toBe("keyscope-api-key");
    expect(rule.regex).toBe(keyPatternSource("ks"));
    expect(rule.keywords).toEqual(["ks_"]);
    // The README shows the same pattern for people and scanners other than gitleaks.
    expect(readme).toContain(`\`${keyPatternSource("ks")}\``);
  });

  it("matches every generated key, whole, wherever it stands", () => {
    fc.assert(
      fc.property(separator, separator, fc.string({ maxLength: 20 }), (before, after, noise) => {
        const key = generateKey("ks");
        const text = `${noise}${before}${key}${after}${noise}`;
        expect(matches(rule.regex, text)).toContain(key);
      }),
      { numRuns: 500 },
    );
    for (const key of Array.from({ length: 200 }, () => generateKey("ks"))) {
      for (const text of [key, `X-API-Key: ${key}`, `"${key}"`, `api_key=${key}&x=1`, `KEY='${key}'\n`, `- ${key}.`]) {
        expect(matches(rule.regex, text)).toEqual([key]);
      }
    }
  });

  it("matches no near miss: wrong length, a character outside base62, a glued word character, another prefix or case", () => {
    fc.assert(
      fc.property(fc.array(base62Char, { minLength: 0, maxLength: 80 }), (chars) => {
        const tail = chars.join("");
        fc.pre(tail.length !== 38);
        expect(matches(rule.regex, ` ks_${tail} `)).toEqual([]);
      }),
      { numRuns: 500 },
    );
    const key = generateKey("ks");
    const tail = key.slice(3);
    const misses = [
      `ks_${tail.slice(1)}`, // 37
      `${key}a`, // 39
      `${key}_`, // glued word character after
      `x${key}`, // glued word character before
      `_${key}`,
      `9${key}`,
      `KS_${tail}`,
      `ks-${tail}`,
      `ksx_${tail}`,
      `k_${tail}`,
      `ks_${tail.slice(0, 20)}-${tail.slice(21)}`,
      `ks_${tail.slice(0, 20)}+${tail.slice(21)}`,
      `ks_${tail.slice(0, 20)}é${tail.slice(21)}`,
    ];
    for (const miss of misses) expect(matches(rule.regex, ` ${miss} `), miss).toEqual([]);
  });
});

describe("keyPatternSource", () => {
  it("matches generated keys of any valid prefix, and no key of another prefix", () => {
    fc.assert(
      fc.property(prefix, prefix, (mine, other) => {
        const key = generateKey(mine);
        expect(matches(keyPatternSource(mine), ` ${key} `)).toEqual([key]);
        if (other !== mine && !other.endsWith(mine)) expect(matches(keyPatternSource(mine), ` ${generateKey(other)} `)).toEqual([]);
      }),
    );
  });
});

describe("triageKey", () => {
  it("VALID for generated keys of the server's prefix, OTHER_PREFIX for valid keys of another", () => {
    fc.assert(
      fc.property(prefix, prefix, (mine, other) => {
        expect(triageKey(generateKey(mine), mine)).toBe("VALID");
        if (other !== mine) expect(triageKey(generateKey(other), mine)).toBe("OTHER_PREFIX");
      }),
    );
  });

  it("BAD_CHECKSUM for the right shape with any single character changed", () => {
    fc.assert(
      fc.property(fc.nat(37), base62Char, (position, replacement) => {
        const key = generateKey("ks");
        const tail = key.slice(3);
        fc.pre(tail[position] !== replacement);
        const changed = `ks_${tail.slice(0, position)}${replacement}${tail.slice(position + 1)}`;
        expect(triageKey(changed, "ks")).toBe("BAD_CHECKSUM");
      }),
      { numRuns: 500 },
    );
  });

  it("MALFORMED for the prefix with the wrong length or characters, NOT_A_KEY for anything else", () => {
    const key = generateKey("ks");
    expect(triageKey("ks_typo", "ks")).toBe("MALFORMED");
    expect(triageKey(`${key}a`, "ks")).toBe("MALFORMED");
    expect(triageKey(`ks_${"-".repeat(38)}`, "ks")).toBe("MALFORMED");
    expect(triageKey("", "ks")).toBe("NOT_A_KEY");
    expect(triageKey("AKIAIOSFODNN7EXAMPLE", "ks")).toBe("NOT_A_KEY");
    expect(triageKey(key.toUpperCase(), "ks")).toBe("NOT_A_KEY");
    const body = `ab_${"x".repeat(32)}`;
    expect(triageKey(`${body}${checksum(body).replace(/./, (c) => (c === "0" ? "1" : "0"))}`, "ks")).toBe("NOT_A_KEY");
  });
});

describe("maskCandidate", () => {
  it("never shows more than a key's start, nor a short string, nor anything that is not visible ASCII", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.oneof(fc.constant("ks"), prefix), (candidate, p) => {
        const masked = maskCandidate(candidate, p);
        expect(masked.endsWith("…")).toBe(true);
        const shown = masked.slice(0, -1);
        expect(candidate.startsWith(shown)).toBe(true);
        if (shown === "") return;
        expect(shown.length).toBeLessThan(candidate.length);
        expect(shown.length).toBeLessThanOrEqual(16 + 1 + 4);
        expect(shown).toMatch(/^[\x21-\x7e]+$/);
      }),
      { numRuns: 1000 },
    );
  });

  it("a key shows its start (prefix and 4 characters), as listings do", () => {
    const key = generateKey("ks");
    expect(maskCandidate(key, "ks")).toBe(`${key.slice(0, 7)}…`);
    const other = generateKey("acme");
    expect(maskCandidate(other, "ks")).toBe(`${other.slice(0, 9)}…`);
    expect(maskCandidate("AKIAIOSFODNN7EXAMPLE", "ks")).toBe("AKIA…");
    expect(maskCandidate("short", "ks")).toBe("…");
    expect(maskCandidate("\u001b[31mred alert and more", "ks")).toBe("…");
  });
});
