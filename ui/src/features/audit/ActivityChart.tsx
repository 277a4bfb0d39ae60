// Events per day as a small bar chart (SVG, no library): refusals stacked in red.

import { formatDay } from "../../lib/format";
import type { DayCount } from "../../lib/auditExport";

const WIDTH = 720;
const HEIGHT = 120;
const PAD_BOTTOM = 20;
const PAD_LEFT = 28;

export function ActivityChart({ days }: { days: DayCount[] }) {
  const max = Math.max(1, ...days.map((d) => d.count));
  const total = days.reduce((n, d) => n + d.count, 0);
  const plotH = HEIGHT - PAD_BOTTOM - 8;
  const slot = (WIDTH - PAD_LEFT) / days.length;
  const bar = Math.max(2, Math.min(18, slot * 0.66));
  const labelEvery = Math.ceil(days.length / 6);
  return (
    <figure className="chart">
      <figcaption>
        Activity, last {days.length} days <span className="muted">· {total} events</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Events per day over the last ${days.length} days: ${total} in all, at most ${max} in a day`}
        preserveAspectRatio="none"
      >
        <line x1={PAD_LEFT} x2={WIDTH} y1={HEIGHT - PAD_BOTTOM + 0.5} y2={HEIGHT - PAD_BOTTOM + 0.5} className="chart-axis" />
        <text x={PAD_LEFT - 6} y={12} className="chart-tick" textAnchor="end">
          {max}
        </text>
        <text x={PAD_LEFT - 6} y={HEIGHT - PAD_BOTTOM} className="chart-tick" textAnchor="end">
          0
        </text>
        {days.map((d, i) => {
          const x = PAD_LEFT + i * slot + (slot - bar) / 2;
          const h = (d.count / max) * plotH;
          const hd = (d.denied / max) * plotH;
          const base = HEIGHT - PAD_BOTTOM;
          return (
            <g key={d.day}>
              <title>{`${formatDay(d.day)}: ${d.count} events${d.denied ? `, ${d.denied} refused` : ""}`}</title>
              <rect x={PAD_LEFT + i * slot} y={0} width={slot} height={base} fill="transparent" />
              {d.count > 0 ? <rect x={x} y={base - h} width={bar} height={h} rx={2} className="chart-bar" /> : null}
              {d.denied > 0 ? <rect x={x} y={base - hd} width={bar} height={hd} rx={2} className="chart-bar-denied" /> : null}
              {i % labelEvery === 0 || i === days.length - 1 ? (
                <text
                  x={i === days.length - 1 ? WIDTH : x + bar / 2}
                  y={HEIGHT - 5}
                  className="chart-tick"
                  textAnchor={i === days.length - 1 ? "end" : "middle"}
                >
                  {formatDay(d.day)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
