import { InputError } from "./errors.ts";

/**
 * The one check every text input of every operation passes before anything else looks at it
 * (SPEC §6, bad input): names, descriptions, emails, filters, ids, cursors, imported values.
 * What it refuses never reaches the database, a log line or an operator's terminal:
 * - control characters: C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F), and the line and paragraph
 *   separators U+2028/U+2029 (only `multiline` text may hold line feeds and tabs);
 * - bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C): they make
 *   text display in another order than it is stored ("Trojan Source");
 * - other invisible format characters (Unicode category Cf: zero-width space, BOM, soft hyphen,
 *   tag characters…), except the zero-width joiner and non-joiner that emoji and some scripts need;
 * - lone surrogates (not Unicode: they would be stored as U+FFFD, another text than was sent);
 * - text that is not blank but holds nothing visible (only spaces, combining marks, joiners,
 *   fillers such as U+3164 or U+2800).
 * Refusals name the field and the character's code point, never the text itself.
 */

export interface TextRules {
  /** How the message names the input, e.g. "The name". @default the field's path */
  label?: string;
  /** The longest text allowed after trimming, in UTF-16 code units. */
  maxLength: number;
  /** Line feeds and tabs are allowed (descriptions). @default false */
  multiline?: boolean;
  /** Surrounding whitespace is kept instead of removed (imported values). @default false */
  keepWhitespace?: boolean;
}

/** Checks one text input; returns it trimmed. Blank text comes back as "": the caller decides. */
export function checkText(field: string, value: unknown, rules: TextRules): string {
  const label = rules.label ?? field;
  if (typeof value !== "string") throw new InputError(field, `${label} must be a string.`);
  const bad = firstForbidden(value, rules.multiline ?? false);
  if (bad) throw new InputError(field, `${label} must not contain ${bad.what} (${codePoint(bad.char)} at character ${bad.index + 1}).`);
  const text = rules.keepWhitespace ? value : value.trim();
  if (text.length > rules.maxLength) throw new InputError(field, `${label} must be at most ${rules.maxLength} characters.`);
  if (text !== "" && !VISIBLE.test(text)) throw new InputError(field, `${label} must contain at least one visible character.`);
  return text;
}

/** The first character `checkText` refuses, with how a message names its kind. */
export function firstForbidden(value: string, multiline = false): { char: string; index: number; what: string } | undefined {
  for (const found of value.matchAll(FORBIDDEN)) {
    const char = found[0];
    if (ALLOWED_FORMAT.has(char) || (multiline && (char === "\n" || char === "\t"))) continue;
    return { char, index: found.index, what: KINDS.find(([pattern]) => pattern.test(char))![1] };
  }
  return undefined;
}

/** `text` with every character `checkText` refuses (joiners and, if asked, line feeds and tabs too) replaced. */
export function replaceForbidden(text: string, replace: (char: string) => string): string {
  return text.replace(FORBIDDEN, replace);
}

const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
/** Each forbidden character, with how a message names its kind (first match wins). */
const KINDS: [RegExp, string][] = [
  [/[\p{Cc}\u2028\u2029]/u, "control characters or line breaks"],
  [BIDI, "bidirectional control characters"],
  [/\p{Cs}/u, "unpaired surrogates (that is not valid Unicode)"],
  [/\p{Cf}/u, "invisible formatting characters"],
];
/** Bidi controls are Cf too. */
const FORBIDDEN = /[\p{Cc}\u2028\u2029\p{Cs}\p{Cf}]/gu;
/** Zero-width non-joiner and joiner: emoji sequences and several scripts need them. */
const ALLOWED_FORMAT = new Set(["\u200C", "\u200D"]);
/** A character that shows: not blank, not a mark or joiner on its own, not a filler. */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{M}\p{Cc}\p{Cf}\u2800]/u;

const codePoint = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
