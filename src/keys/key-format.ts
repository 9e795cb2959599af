import { createHmac, hash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";

/** Base62 alphabet, in the order the checksum is written: 0-9, A-Z, a-z. */
export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const RANDOM_LENGTH = 32;
export const CHECKSUM_LENGTH = 6;
/** `[a-z][a-z0-9]{0,15}`; the key starts with it and `_`. */
export const KEY_PREFIX_PATTERN = /^[a-z][a-z0-9]{0,15}$/;
const BASE62_TAIL = new RegExp(`^[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);
/** How many characters of an imported key's value are shown as its `start`. */
const IMPORTED_START_LENGTH = 4;
/** How many random characters after the prefix are shown as a generated key's `start`. */
const GENERATED_START_LENGTH = 4;

/** What a presented string is, judged without the database. */
export type KeyShape =
  | { kind: "generated" }
  | { kind: "imported" }
  | { kind: "malformed" };

/** A new key: prefix, `_`, 32 CSPRNG base62 characters, 6-character CRC32 checksum. */
export function generateKey(prefix: string): string {
  const body = `${prefix}_${randomBase62(RANDOM_LENGTH)}`;
  return body + checksum(body);
}

/** CRC32 (IEEE, as zlib) of `text`, in base62, most significant digit first, padded to 6. */
export function checksum(text: string): string {
  let value = crc32(text);
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/**
 * Sorts a presented string: a well-formed generated key (right length, alphabet and checksum),
 * a candidate for an imported key, or malformed. Only the first two are worth a look-up.
 */
export function classifyKey(presented: string, prefix: string): KeyShape {
  if (presented.startsWith(`${prefix}_`)) {
    return isWellFormedGenerated(presented, prefix) ? { kind: "generated" } : { kind: "malformed" };
  }
  return isValidImportedValue(presented) ? { kind: "imported" } : { kind: "malformed" };
}

/** SPEC §2: 16 to 256 characters, no blanks or control characters. */
export function isValidImportedValue(value: string): boolean {
  return value.length >= 16 && value.length <= 256 && !/[\s\p{Cc}]/u.test(value);
}

/** The characters shown to people to recognise a key; never enough to use it. */
export function keyStart(key: string, prefix: string): string {
  if (key.startsWith(`${prefix}_`)) return key.slice(0, prefix.length + 1 + GENERATED_START_LENGTH);
  return key.slice(0, IMPORTED_START_LENGTH);
}

/** HMAC-SHA256 with the server secret when there is one, else SHA-256; hex. */
export function hashKey(key: string, hashSecret: string | undefined): string {
  // One-shot hash: this runs on every request with a key.
  return hashSecret ? createHmac("sha256", hashSecret).update(key, "utf8").digest("hex") : hash("sha256", key, "hex");
}

function isWellFormedGenerated(presented: string, prefix: string): boolean {
  const bodyLength = prefix.length + 1 + RANDOM_LENGTH;
  if (presented.length !== bodyLength + CHECKSUM_LENGTH) return false;
  if (!BASE62_TAIL.test(presented.slice(prefix.length + 1))) return false;
  const body = presented.slice(0, bodyLength);
  return checksum(body) === presented.slice(bodyLength);
}

/** Unbiased: bytes of 248 and above are dropped, since 248 = 4 × 62. */
function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}
