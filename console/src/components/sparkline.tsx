import type { UsageBucket } from "../types.ts";
import { usageText } from "./usage-summary.ts";

const WIDTH = 96;
const HEIGHT = 24;

/** 24 hours of requests (solid line) and rejections (dashed line), in plain SVG. */
export function Sparkline(props: { usage: readonly UsageBucket[] | undefined }) {
  if (!props.usage) return <span class="muted">…</span>;
  const label = usageText(props.usage, "Last 24 hours");
  const max = Math.max(1, ...props.usage.map((b) => b.requests));
  const points = (value: (b: UsageBucket) => number) =>
    props.usage!.map((b, i) => `${((i / Math.max(1, props.usage!.length - 1)) * WIDTH).toFixed(1)},${(HEIGHT - 2 - (value(b) / max) * (HEIGHT - 4)).toFixed(1)}`).join(" ");
  return (
    <span class="sparkline">
      <svg width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
        <title>{label}</title>
        <polyline class="line-requests" points={points((b) => b.requests)} fill="none" />
        <polyline class="line-rejected" points={points((b) => b.rejected)} fill="none" />
      </svg>
    </span>
  );
}
