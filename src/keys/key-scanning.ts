import { CHECKSUM_LENGTH, classifyKey, keyStart, RANDOM_LENGTH } from "./key-format.ts";

/**
 * Recognising Keyscope keys outside Keyscope: the pattern secret scanners match, and the
 * offline triage of what they found (`keyscope keys check`). Nothing here needs the database.
 */

/** Characters after `<prefix>_`: the random part and the checksum. */
const TAIL_LENGTH = RANDOM_LENGTH + CHECKSUM_LENGTH;

/**
 * A regular expression (RE2 and JavaScript alike, as gitleaks runs it) for keys with `prefix`:
 * the prefix, `_`, 38 base62 characters, and no word character on either side.
 */
export function keyPatternSource(prefix: string): string {
  return `\\b${prefix}_[0-9A-Za-z]{${TAIL_LENGTH}}\\b`;
}

/** What a string found somewhere is, judged offline. */
export type Triage =
  /** This server's prefix, length, alphabet and checksum: a real key's shape. Revoke it if leaked. */
  | "VALID"
  /** The shape of a key of this server, but the checksum fails: a typo, a truncation or a made-up string. */
  | "BAD_CHECKSUM"
  /** Begins with this server's prefix but has the wrong length or characters. */
  | "MALFORMED"
  /** A valid key of a Keyscope with another prefix. */
  | "OTHER_PREFIX"
  /** Not in Keyscope's format (it could still be an imported key's value). */
  | "NOT_A_KEY";

const OTHER_PREFIX = /^([a-z][a-z0-9]{0,15})_/;
const TAIL = new RegExp(`^[0-9A-Za-z]{${TAIL_LENGTH}}$`);

export function triageKey(candidate: string, prefix: string): Triage {
  if (candidate.startsWith(`${prefix}_`)) {
    if (classifyKey(candidate, prefix).kind === "generated") return "VALID";
    return TAIL.test(candidate.slice(prefix.length + 1)) ? "BAD_CHECKSUM" : "MALFORMED";
  }
  const other = OTHER_PREFIX.exec(candidate)?.[1];
  if (other !== undefined && classifyKey(candidate, other).kind === "generated") return "OTHER_PREFIX";
  return "NOT_A_KEY";
}

/**
 * What may be shown of a string that may be a secret: for a key-shaped one its `start` (the
 * prefix and 4 characters, as listings show), for anything else its first 4 characters when it
 * is at least 16 long, else nothing (`…`). Only visible ASCII is ever shown.
 */
export function maskCandidate(candidate: string, prefix: string): string {
  const other = OTHER_PREFIX.exec(candidate)?.[1];
  const shown = candidate.startsWith(`${prefix}_`) ? keyStart(candidate, prefix) : other !== undefined ? keyStart(candidate, other) : candidate.length >= 16 ? candidate.slice(0, 4) : "";
  // Only visible ASCII is echoed: a scanner hit may hold terminal escapes.
  return shown === "" || shown.length >= candidate.length || !/^[\x21-\x7e]+$/.test(shown) ? "…" : `${shown}…`;
}
