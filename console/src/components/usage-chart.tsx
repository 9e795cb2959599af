import { dayLabel, hourLabel } from "../format.ts";
import type { UsageBucket } from "../types.ts";
import { totals, usageText } from "./usage-summary.ts";

const WIDTH = 720;
const HEIGHT = 180;
const PAD = { left: 40, right: 8, top: 8, bottom: 24 };

/**
 * Hourly requests and rejections as bars, in plain SVG (no chart library: two series of at most
 * 168 bars). Rejected hours are drawn hatched on top of the requests, and the totals are written out.
 */
export function UsageChart(props: { usage: readonly UsageBucket[]; period: string; tickEvery: number; tickLabel: "hour" | "day" }) {
  const { usage } = props;
  const max = Math.max(1, ...usage.map((b) => b.requests));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const step = plotWidth / Math.max(1, usage.length);
  const barWidth = Math.max(1, step - 1);
  const y = (v: number) => PAD.top + plotHeight - (v / max) * plotHeight;
  const t = totals(usage);
  const label = usageText(usage, props.period);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
        <title>{label}</title>
        <defs>
          <pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="4" height="4" class="bar-rejected-bg" />
            <line x1="0" y1="0" x2="0" y2="4" class="bar-rejected-line" />
          </pattern>
        </defs>
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} class="axis" />
        <text x={PAD.left - 4} y={y(max) + 4} class="tick" text-anchor="end">
          {max}
        </text>
        <text x={PAD.left - 4} y={y(0)} class="tick" text-anchor="end">
          0
        </text>
        {usage.map((b, i) => (
          <g key={b.start}>
            {b.requests > 0 ? <rect x={PAD.left + i * step} y={y(b.requests)} width={barWidth} height={y(0) - y(b.requests)} class="bar-requests" /> : null}
            {b.rejected > 0 ? <rect x={PAD.left + i * step} y={y(b.rejected)} width={barWidth} height={y(0) - y(b.rejected)} fill="url(#hatch)" /> : null}
            {i % props.tickEvery === 0 ? (
              <text x={PAD.left + i * step} y={HEIGHT - 6} class="tick">
                {props.tickLabel === "hour" ? hourLabel(b.start) : dayLabel(b.start)}
              </text>
            ) : null}
          </g>
        ))}
      </svg>
      <figcaption>
        <span class="legend legend-requests">Requests: {t.requests.toLocaleString("en")}</span>{" "}
        <span class="legend legend-rejected">Rejected (hatched): {t.rejected.toLocaleString("en")}</span>
      </figcaption>
    </figure>
  );
}
