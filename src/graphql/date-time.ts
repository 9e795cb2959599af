/**
 * Strict RFC 3339 date-times (section 5.6): `2026-12-31T23:59:59Z`, `2026-12-31t23:59:59.5+02:00`.
 * Every part is checked against the calendar, so that no input is stored as another instant
 * (JavaScript's Date.parse turns 2027-02-30 into March 2 and T24:00 into the next day):
 * - the date: year 0000–9999, month 01–12, day within the month (Gregorian leap years);
 * - the time: hour 00–23, minute 00–59, second 00–59; a leap second (:60) is refused, since it
 *   cannot be stored; a fraction of up to 9 digits is kept to the millisecond;
 * - `T` or `t` between them (or one space, which RFC 3339 allows); `Z`, `z` or an offset
 *   `±hh:mm` with hh 00–23 and mm 00–59 (`-00:00`, "offset unknown", means UTC);
 * - the instant itself must fall within years 0000–9999 in UTC, so that it is written back in
 *   the same format.
 */
export function parseRfc3339(text: string): { ok: true; date: Date } | { ok: false; problem: string } {
  const m = SHAPE.exec(text);
  if (!m) return { ok: false, problem: "is not in the format YYYY-MM-DDThh:mm:ss with Z or an offset such as +02:00" };
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) return { ok: false, problem: "has a month outside 01–12" };
  if (day < 1 || day > daysInMonth(year, month)) return { ok: false, problem: "has a day that its month does not have" };
  if (hour > 23) return { ok: false, problem: "has an hour outside 00–23 (midnight at the end of a day is 00:00 of the next)" };
  if (minute > 59) return { ok: false, problem: "has a minute outside 00–59" };
  if (second === 60) return { ok: false, problem: "is a leap second, which cannot be stored: use :59" };
  if (second > 59) return { ok: false, problem: "has a second outside 00–59" };
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const offsetHours = Number(m[9]);
    const offsetMins = Number(m[10]);
    if (offsetHours > 23 || offsetMins > 59) return { ok: false, problem: "has an offset outside -23:59 to +23:59" };
    offsetMinutes = (m[8] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, millis);
  const utcYear = date.getUTCFullYear();
  if (utcYear < 0 || utcYear > 9999) return { ok: false, problem: "falls outside the years 0000–9999 in UTC" };
  return { ok: true, date };
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : DAYS[month - 1]!;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Digits only where digits go: the checks above read them as numbers. */
const SHAPE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
