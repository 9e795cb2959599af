import { replaceForbidden } from "../text-check.ts";

/**
 * What the operator CLI prints comes from the database, where anyone with a key may have put
 * names: a `\n` would forge a line, an ANSI CSI sequence recolour or erase the screen, an OSC 52
 * sequence write the operator's clipboard, a bidi override reorder what is shown. So every value
 * is printed through one of these two.
 */

/** A value as text: control, bidi and invisible characters (and `\`) as visible escapes. */
export function printable(value: unknown): string {
  return replaceForbidden(String(value).replaceAll("\\", "\\\\"), escapeChar);
}

/** A template whose every `${value}` goes through `printable`; the template's own text is trusted. */
export function printed(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((out, text, i) => out + text + (i < values.length ? printable(values[i]) : ""), "");
}

/**
 * JSON for stdout. JSON.stringify escapes C0 controls and lone surrogates but leaves DEL, C1
 * (U+009B is CSI, U+009D OSC on terminals that honour 8-bit controls), bidi and format characters
 * and U+2028/U+2029 as they are; those only occur inside strings, where `\uXXXX` means the same.
 */
export function printableJson(value: unknown): string {
  return replaceForbidden(JSON.stringify(value) ?? "null", unicodeEscape);
}

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeChar(char: string): string {
  const short = SHORT[char];
  if (short) return short;
  const cp = char.codePointAt(0)!;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u{${cp.toString(16)}}`;
}

/** One UTF-16 code unit at a time, as JSON writes astral characters. */
function unicodeEscape(char: string): string {
  let out = "";
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
  return out;
}
