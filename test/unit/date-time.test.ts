// Strict RFC 3339 (src/graphql/date-time.ts) against a reference written another way: Howard
// Hinnant's days-from-civil arithmetic instead of a month table and JavaScript's Date.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { daysInMonth, isLeapYear, parseRfc3339 } from "../../src/graphql/date-time.ts";
import { DateTime } from "../../src/graphql/scalars.ts";

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1–12). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (month <= 2 ? 1 : 0), month, day];
}

interface Parts {
  year: number; month: number; day: number; hour: number; minute: number; second: number;
  fraction: string; separator: string; offset: { sign: "+" | "-"; hours: number; minutes: number } | "Z" | "z";
}

/** The instant in ms, or undefined when the parts name no instant Keyscope accepts. */
function reference(p: Parts): number | undefined {
  if (p.month < 1 || p.month > 12 || p.day < 1) return undefined;
  const days = daysFromCivil(p.year, p.month, p.day);
  const [y, m, d] = civilFromDays(days);
  if (y !== p.year || m !== p.month || d !== p.day) return undefined; // the day overflowed its month
  if (p.hour > 23 || p.minute > 59 || p.second > 59) return undefined; // no T24:00, no leap second
  let offsetSeconds = 0;
  if (typeof p.offset === "object") {
    if (p.offset.hours > 23 || p.offset.minutes > 59) return undefined;
    offsetSeconds = (p.offset.sign === "-" ? -1 : 1) * (p.offset.hours * 3600 + p.offset.minutes * 60);
  }
  const millis = p.fraction === "" ? 0 : Math.floor(Number(`0.${p.fraction}`) * 1000 + 1e-9);
  const instant = (days * 86400 + p.hour * 3600 + p.minute * 60 + p.second - offsetSeconds) * 1000 + millis;
  const [utcYear] = civilFromDays(Math.floor(instant / 86_400_000));
  return utcYear < 0 || utcYear > 9999 ? undefined : instant;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function format(p: Parts): string {
  const offset = typeof p.offset === "string" ? p.offset : `${p.offset.sign}${pad(p.offset.hours)}:${pad(p.offset.minutes)}`;
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}${p.separator}${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${p.fraction ? `.${p.fraction}` : ""}${offset}`;
}

const parts: fc.Arbitrary<Parts> = fc.record({
  year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 1900, 2000, 2024, 2027, 2100, 2400, 9999)),
  month: fc.integer({ min: 0, max: 13 }),
  day: fc.oneof(fc.integer({ min: 0, max: 32 }), fc.integer({ min: 27, max: 31 })),
  hour: fc.integer({ min: 0, max: 25 }),
  minute: fc.integer({ min: 0, max: 61 }),
  second: fc.oneof(fc.integer({ min: 0, max: 61 }), fc.constant(60)),
  fraction: fc.oneof(fc.constant(""), fc.stringMatching(/^\d{1,9}$/)),
  separator: fc.constantFrom("T", "t", " "),
  offset: fc.oneof(
    fc.constantFrom("Z" as const, "z" as const),
    fc.record({ sign: fc.constantFrom("+" as const, "-" as const), hours: fc.integer({ min: 0, max: 25 }), minutes: fc.integer({ min: 0, max: 61 }) }),
  ),
});

describe("RFC 3339 date-times", () => {
  it("accept exactly what the reference accepts, as the same instant", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const text = format(p);
        const expected = reference(p);
        const parsed = parseRfc3339(text);
        if (expected === undefined) expect(parsed.ok, text).toBe(false);
        else {
          expect(parsed.ok, text).toBe(true);
          if (parsed.ok) expect(parsed.date.getTime(), text).toBe(expected);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it("write back in the same format what they read (to the millisecond, in UTC)", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const parsed = parseRfc3339(format(p));
        if (!parsed.ok) return;
        const written = parsed.date.toISOString();
        const again = parseRfc3339(written);
        expect(again.ok && again.date.getTime()).toBe(parsed.date.getTime());
      }),
      { numRuns: 5_000 },
    );
  });

  it("know month lengths and leap years", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2027, m))).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    expect([2024, 2000, 2400, 0].map(isLeapYear)).toEqual([true, true, true, true]);
    expect([2027, 1900, 2100, 2200].map(isLeapYear)).toEqual([false, false, false, false]);
  });

  it.each([
    ["2027-02-30T00:00:00Z", "has a day that its month does not have"],
    ["2027-02-29T00:00:00Z", "has a day that its month does not have"],
    ["2100-02-29T00:00:00Z", "has a day that its month does not have"],
    ["2027-04-31T00:00:00Z", "has a day that its month does not have"],
    ["2027-01-00T00:00:00Z", "has a day that its month does not have"],
    ["2027-00-10T00:00:00Z", "has a month outside 01–12"],
    ["2027-13-10T00:00:00Z", "has a month outside 01–12"],
    ["2027-02-01T24:00:00Z", "has an hour outside 00–23 (midnight at the end of a day is 00:00 of the next)"],
    ["2027-02-01T23:60:00Z", "has a minute outside 00–59"],
    ["2016-12-31T23:59:60Z", "is a leap second, which cannot be stored: use :59"],
    ["2027-02-01T23:59:61Z", "has a second outside 00–59"],
    ["2027-02-01T10:00:00+24:00", "has an offset outside -23:59 to +23:59"],
    ["2027-02-01T10:00:00+05:60", "has an offset outside -23:59 to +23:59"],
    ["0000-01-01T00:00:00+00:01", "falls outside the years 0000–9999 in UTC"],
    ["9999-12-31T23:59:59-00:01", "falls outside the years 0000–9999 in UTC"],
    ["2027-02-01", "is not in the format"],
    ["2027-02-01T10:00:00", "is not in the format"],
    ["2027-2-01T10:00:00Z", "is not in the format"],
    ["2027-02-01T10:00Z", "is not in the format"],
    ["2027-02-01T10:00:00.Z", "is not in the format"],
    ["2027-02-01T10:00:00.1234567890Z", "is not in the format"],
    ["2027-02-01T10:00:00+0200", "is not in the format"],
    ["+02027-02-01T10:00:00Z", "is not in the format"],
    ["２０２７-02-01T10:00:00Z", "is not in the format"],
    [" 2027-02-01T10:00:00Z", "is not in the format"],
    ["2027-02-01T10:00:00Z\n", "is not in the format"],
    ["2027-02-01T10:00:00 Z", "is not in the format"],
  ])("refuse %j: it %s", (text, problem) => {
    const parsed = parseRfc3339(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem.startsWith(problem)).toBe(true);
  });

  it.each([
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
    ["2000-02-29t12:30:00z", "2000-02-29T12:30:00.000Z"],
    ["2027-12-31 23:59:59.999999999+00:00", "2027-12-31T23:59:59.999Z"],
    ["2027-01-01T00:30:00+01:00", "2026-12-31T23:30:00.000Z"],
    ["2027-01-01T00:00:00-00:00", "2027-01-01T00:00:00.000Z"],
    ["2027-06-15T08:00:00.5-23:59", "2027-06-16T07:59:00.500Z"],
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"],
    ["0050-03-01T00:00:00Z", "0050-03-01T00:00:00.000Z"],
    ["9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"],
  ])("read %j as %s", (text, iso) => {
    const parsed = parseRfc3339(text);
    expect(parsed.ok && parsed.date.toISOString()).toBe(iso);
  });

  it("as the DateTime scalar: refusals say why, never repeat the value", () => {
    expect(() => DateTime.parseValue("2027-02-30T00:00:00Z")).toThrow(
      "DateTime must be an RFC 3339 date-time such as 2026-12-31T23:59:59Z; this one has a day that its month does not have.",
    );
    expect(() => DateTime.parseValue(1_700_000_000)).toThrow("DateTime must be a string such as 2026-12-31T23:59:59Z.");
    expect(DateTime.parseValue("2027-02-28T00:00:00Z")).toEqual(new Date("2027-02-28T00:00:00Z"));
    expect(DateTime.serialize(new Date("2027-02-28T00:00:00Z"))).toBe("2027-02-28T00:00:00.000Z");
  });
});
