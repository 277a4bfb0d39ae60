// A table whose body renders only the rows in view (@tanstack/react-virtual), so
// 10,000 secrets or 5,000 audit events scroll as smoothly as ten. Rows have a fixed
// height; columns share one CSS grid template between header and body.

import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useMemo, useRef, type ReactNode } from "react";

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
  /** Memoised by the caller: new columns re-render every row in view. */
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
  // The virtualizer recomputes the place of every row (10,000 of them) whenever
  // getItemKey changes, so it changes with the rows only: a row's key is the same
  // whichever rowKey function (often an inline arrow) computes it.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const getItemKey = useCallback((i: number) => rowKey(rows[i]!), [rows]);
  const getScrollElement = useCallback(() => scroller.current, []);
  const estimateSize = useCallback(() => rowHeight, [rowHeight]);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement,
    estimateSize,
    overscan: 8,
    getItemKey,
    initialRect: { width: 1000, height: 640 },
  });
  const template = useMemo(() => columns.map((c) => c.width).join(" "), [columns]);
  const minWidth = useMemo(() => minimumWidth(columns), [columns]);

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
                  <VirtualRow
                    key={item.key}
                    row={row}
                    columns={columns}
                    index={item.index}
                    start={item.start}
                    height={rowHeight}
                    template={template}
                    label={rowLabel?.(row)}
                    className={rowClassName?.(row)}
                  />
                );
              })}
            </div>
          )}
        </div>
      </div>
    </div>
  );
}

interface VirtualRowProps<T> {
  row: T;
  columns: Column<T>[];
  index: number;
  start: number;
  height: number;
  template: string;
  label: string | undefined;
  className: string | undefined;
}

// Memoised: a render of the table that leaves a row's data and place alone (a
// keystroke before the filtered list arrives, a scroll) does not render its cells.
const VirtualRow = memo(function VirtualRow<T>({ row, columns, index, start, height, template, label, className }: VirtualRowProps<T>) {
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      aria-label={label}
      className={`vtable-row ${className ?? ""}`}
      style={{ gridTemplateColumns: template, height, transform: `translateY(${start}px)` }}
    >
      {columns.map((c) => (
        <div key={c.key} role="cell" className={`vtable-cell align-${c.align ?? "start"}`}>
          {c.render(row)}
        </div>
      ))}
    </div>
  );
}) as <T>(props: VirtualRowProps<T>) => ReactNode;

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
