// Dates and times as people read them: relative ("3 hours ago") with Intl.RelativeTimeFormat.

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const absolute = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });
const hourOnly = new Intl.DateTimeFormat("en", { hour: "2-digit", minute: "2-digit", hour12: false });
const dayOnly = new Intl.DateTimeFormat("en", { weekday: "short", day: "numeric" });

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["week", 7 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** "in 3 days", "5 minutes ago", "now". */
export function relativeTime(iso: string, now: number): string {
  const diff = Date.parse(iso) - now;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return relative.format(Math.round(diff / ms), unit);
  }
  return relative.format(0, "second");
}

/** "Nov 23, 2026, 9:00 AM" in the browser's time zone. */
export function dateTime(iso: string): string {
  return absolute.format(new Date(iso));
}

export function hourLabel(iso: string): string {
  return hourOnly.format(new Date(iso));
}

export function dayLabel(iso: string): string {
  return dayOnly.format(new Date(iso));
}

/** "1,000 per 60 s". */
export function rateLimitText(rateLimit: { limit: number; windowSeconds: number } | null): string {
  return rateLimit ? `${rateLimit.limit.toLocaleString("en")} per ${rateLimit.windowSeconds} s` : "Server default";
}

/** A date input's value (yyyy-mm-dd) for a time. */
export function dateInputValue(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
