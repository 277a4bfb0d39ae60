// Events per day as a small bar chart (SVG, no library): refusals stacked in red. The
// drawing is as many units wide and high as the box it fills, so its labels are never
// stretched, whatever room the Audit screen leaves it.

import { useLayoutEffect, useRef, useState } from "react";
import { formatDay } from "../../lib/format";
import type { DayCount } from "../../lib/auditExport";

const PAD_BOTTOM = 20;
const PAD_LEFT = 28;
/** Room a day's label ("28 Nov") needs beside the last one, in pixels. */
const LABEL_ROOM = 52;

/** The element's size in CSS pixels, followed as it changes (`initial` until measured). */
function useBoxSize(initial: { width: number; height: number }) {
  const ref = useRef<SVGSVGElement>(null);
  const [size, setSize] = useState(initial);
  useLayoutEffect(() => {
    const node = ref.current;
    if (!node || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(([entry]) => {
      const width = Math.round(entry?.contentRect.width ?? 0);
      const height = Math.round(entry?.contentRect.height ?? 0);
      if (width > 0 && height > 0) {
        setSize((s) => (s.width === width && s.height === height ? s : { width, height }));
      }
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, []);
  return { ref, ...size };
}

export function ActivityChart({ days }: { days: DayCount[] }) {
  const { ref, width, height } = useBoxSize({ width: 720, height: 120 });
  const max = Math.max(1, ...days.map((d) => d.count));
  const total = days.reduce((n, d) => n + d.count, 0);
  const plotH = height - PAD_BOTTOM - 8;
  const slot = (width - PAD_LEFT) / days.length;
  const bar = Math.max(2, Math.min(18, slot * 0.66));
  const labelEvery = Math.ceil(days.length / 6);
  const last = days.length - 1;
  // The last day's label is set flush right; a regular one closer than this to it
  // would run into it in a narrow chart.
  const labelled = (i: number) => i === last || (i % labelEvery === 0 && (last - i) * slot >= LABEL_ROOM);
  return (
    <figure className="chart">
      <figcaption>
        Activity, last {days.length} days <span className="muted">· {total} {total === 1 ? "event" : "events"}</span>
      </figcaption>
      <svg
        ref={ref}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Events per day over the last ${days.length} days: ${total} in all, at most ${max} in a day`}
        preserveAspectRatio="none"
      >
        <line x1={PAD_LEFT} x2={width} y1={height - PAD_BOTTOM + 0.5} y2={height - PAD_BOTTOM + 0.5} className="chart-axis" />
        <text x={PAD_LEFT - 6} y={12} className="chart-tick" textAnchor="end">
          {max}
        </text>
        <text x={PAD_LEFT - 6} y={height - PAD_BOTTOM} className="chart-tick" textAnchor="end">
          0
        </text>
        {days.map((d, i) => {
          const x = PAD_LEFT + i * slot + (slot - bar) / 2;
          const h = (d.count / max) * plotH;
          const hd = (d.denied / max) * plotH;
          const base = height - PAD_BOTTOM;
          return (
            <g key={d.day}>
              <title>{`${formatDay(d.day)}: ${d.count} events${d.denied ? `, ${d.denied} refused` : ""}`}</title>
              <rect x={PAD_LEFT + i * slot} y={0} width={slot} height={base} fill="transparent" />
              {d.count > 0 ? <rect x={x} y={base - h} width={bar} height={h} rx={2} className="chart-bar" /> : null}
              {d.denied > 0 ? <rect x={x} y={base - hd} width={bar} height={hd} rx={2} className="chart-bar-denied" /> : null}
              {labelled(i) ? (
                <text
                  x={i === days.length - 1 ? width : x + bar / 2}
                  y={height - 5}
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
