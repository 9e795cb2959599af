// The one text check (src/text-check.ts): what it refuses, what it lets through, what it says.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.ts";
import { checkText, firstForbidden } from "../../src/text-check.ts";
import { FORBIDDEN_SAMPLES, INVISIBLE_TEXTS, forbiddenChar, insertAt } from "../helpers/bad-text.ts";

const ALL_FORBIDDEN = Object.values(FORBIDDEN_SAMPLES).flat();

/** Printable text: letters of several scripts, digits, punctuation, emoji (with joiners), inner spaces. */
const clean = fc
  .array(fc.constantFrom("a", "Z", "7", "-", ".", " ", "é", "ß", "Ж", "語", "ع", "ש", "😀", "👩‍💻", "e\u0301", "🏳️‍🌈", "ﬁ"), { minLength: 1, maxLength: 20 })
  .map((parts) => `x${parts.join("")}x`);

const rules = { label: "The name", maxLength: 100 };

function refusal(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error("expected an InputError");
}

describe("checkText", () => {
  it.each(ALL_FORBIDDEN.map((c) => [c.codePointAt(0)!.toString(16), c]))("refuses U+%s anywhere, naming the field and the code point", (_, char) => {
    for (const text of [char, `a${char}`, `${char}b`, `left${char}right`]) {
      const error = refusal(() => checkText("name", text, rules));
      expect(error.field).toBe("name");
      expect(error.message).toMatch(/^The name must not contain .+ \(U\+[0-9A-F]{4,6} at character \d+\)\.$/);
      expect(error.message).not.toContain(char);
    }
  });

  it("refuses a forbidden character at any place in any clean text, and never repeats the text", () => {
    fc.assert(
      fc.property(clean, forbiddenChar, fc.nat(), (text, char, at) => {
        const bad = insertAt(text, char, at % (text.length + 1));
        const error = refusal(() => checkText("description", bad, { maxLength: 1000 }));
        expect(error.field).toBe("description");
        expect(error.message).not.toContain(text);
      }),
      { numRuns: 500 },
    );
  });

  it("accepts clean text in any script, emoji with joiners included, trimmed", () => {
    fc.assert(
      fc.property(clean, (text) => {
        expect(checkText("name", `  ${text}\u3000`, rules)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it.each(INVISIBLE_TEXTS.map((t) => [JSON.stringify(t), t]))("refuses %s: nothing in it is visible", (_, text) => {
    const trimmed = text.trim();
    if (trimmed === "") {
      expect(checkText("name", text, rules)).toBe("");
      return;
    }
    expect(refusal(() => checkText("name", text, rules)).message).toBe("The name must contain at least one visible character.");
  });

  it("lets multiline text hold line feeds and tabs, and nothing else of the kind", () => {
    expect(checkText("description", "line one\n\tline two\n", { maxLength: 100, multiline: true })).toBe("line one\n\tline two");
    expect(refusal(() => checkText("description", "line one\r\nline two", { maxLength: 100, multiline: true })).message).toContain("U+000D at character 9");
    expect(refusal(() => checkText("description", "ok\n\u202e", { maxLength: 100, multiline: true })).message).toContain("U+202E at character 4");
  });

  it("counts the length after trimming, and refuses what is not a string", () => {
    expect(checkText("name", ` ${"n".repeat(100)} `, rules)).toHaveLength(100);
    expect(refusal(() => checkText("name", "n".repeat(101), rules)).message).toBe("The name must be at most 100 characters.");
    expect(refusal(() => checkText("name", 42, rules)).message).toBe("The name must be a string.");
    expect(checkText("value", "  kept  ", { maxLength: 10, keepWhitespace: true })).toBe("  kept  ");
  });

  it("names each kind of character for what it is", () => {
    expect(firstForbidden("a\u0000")?.what).toBe("control characters or line breaks");
    expect(firstForbidden("a\u2028")?.what).toBe("control characters or line breaks");
    expect(firstForbidden("a\u202e")?.what).toBe("bidirectional control characters");
    expect(firstForbidden("a\u200b")?.what).toBe("invisible formatting characters");
    expect(firstForbidden("a\ud800")?.what).toBe("unpaired surrogates (that is not valid Unicode)");
    expect(firstForbidden("a\u200d\u200cb")).toBeUndefined();
    expect(firstForbidden("😀")).toBeUndefined();
  });
});
