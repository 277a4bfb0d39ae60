// A table whose body renders only the rows in view (@tanstack/react-virtual), so
// 10,000 secrets or 5,000 audit events scroll as smoothly as ten. Rows have a fixed
// height; columns share one CSS grid template between header and body.

import { useVirtualizer } from "@tanstack/react-virtual";
import { useRef, type ReactNode } from "react";

export interface Column<T> {
  key: string;
  header: ReactNode;
  /** A CSS grid track: "120px", "minmax(160px, 1fr)". */
  width: string;
  align?: "start" | "end" | "center";
  render: (row: T) => ReactNode;
}

export interface VirtualTableProps<T> {
  label: string;
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  rowHeight?: number;
  rowClassName?: (row: T) => string | undefined;
  rowLabel?: (row: T) => string;
  /** Shown instead of the body when there are no rows. */
  empty?: ReactNode;
}

export function VirtualTable<T>({
  label,
  rows,
  columns,
  rowKey,
  rowHeight = 52,
  rowClassName,
  rowLabel,
  empty,
}: VirtualTableProps<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 8,
    getItemKey: (i) => rowKey(rows[i]!),
    initialRect: { width: 1000, height: 640 },
  });
  const template = columns.map((c) => c.width).join(" ");
  const minWidth = minimumWidth(columns);

  return (
    <div className="vtable" role="table" aria-label={label} aria-rowcount={rows.length + 1}>
      <div className="vtable-scroll" ref={scroller}>
        <div className="vtable-inner" style={{ minWidth }}>
          <div role="rowgroup" className="vtable-head">
            <div role="row" className="vtable-row vtable-header-row" style={{ gridTemplateColumns: template }} aria-rowindex={1}>
              {columns.map((c) => (
                <div key={c.key} role="columnheader" className={`vtable-cell align-${c.align ?? "start"}`}>
                  {c.header}
                </div>
              ))}
            </div>
          </div>
          {rows.length === 0 && empty ? (
            <div className="vtable-empty">{empty}</div>
          ) : (
            <div role="rowgroup" className="vtable-body" style={{ height: virtualizer.getTotalSize() }}>
              {virtualizer.getVirtualItems().map((item) => {
                const row = rows[item.index]!;
                return (
                  <div
                    key={item.key}
                    role="row"
                    aria-rowindex={item.index + 2}
                    aria-label={rowLabel?.(row)}
                    className={`vtable-row ${rowClassName?.(row) ?? ""}`}
                    style={{ gridTemplateColumns: template, height: rowHeight, transform: `translateY(${item.start}px)` }}
                  >
                    {columns.map((c) => (
                      <div key={c.key} role="cell" className={`vtable-cell align-${c.align ?? "start"}`}>
                        {c.render(row)}
                      </div>
                    ))}
                  </div>
                );
              })}
            </div>
          )}
        </div>
      </div>
    </div>
  );
}

const COLUMN_GAP = 12;
const ROW_PADDING = 32;

/** The narrowest the columns can get ("120px", or the first size of a minmax): below it the table scrolls sideways. */
function minimumWidth<T>(columns: Column<T>[]): number {
  const tracks = columns.reduce((sum, c) => {
    const px = /^(?:minmax\()?\s*(\d+(?:\.\d+)?)px/.exec(c.width);
    return sum + (px ? Number(px[1]) : 0);
  }, 0);
  return tracks + COLUMN_GAP * (columns.length - 1) + ROW_PADDING;
}
