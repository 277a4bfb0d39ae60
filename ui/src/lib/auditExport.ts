// Audit exports (CSV, JSON) and the per-day activity counts for the chart, built in
// the UI from the events already loaded. Events never carry values, so neither do
// the exports.

import type { AuditEvent } from "./types";

const CSV_COLUMNS = [
  "id",
  "time",
  "actor",
  "action",
  "outcome",
  "workspace",
  "project",
  "environment",
  "secret",
  "detail",
] as const;

/**
 * `raw` as a spreadsheet will show it, never run it: a cell starting with = + - @ (or
 * a tab or CR) would run as a formula, so it gets a leading '. The same rule as
 * `coffer audit --csv` (coffer_core::spreadsheet::formula_safe); both are tested over
 * one table, src-tauri/crates/coffer-core/src/spreadsheet_cells.json.
 */
export function formulaSafe(raw: string): string {
  return /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
}

function csvCell(raw: string): string {
  const text = formulaSafe(raw);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV, one event per row, `detail` as compact JSON. */
export function eventsToCsv(events: AuditEvent[]): string {
  const rows = events.map((e) =>
    [
      String(e.id),
      e.time,
      e.actor,
      e.action,
      e.outcome,
      e.workspace ?? "",
      e.project ?? "",
      e.environment ?? "",
      e.secret ?? "",
      Object.keys(e.detail).length ? JSON.stringify(e.detail) : "",
    ]
      .map(csvCell)
      .join(","),
  );
  return [CSV_COLUMNS.join(","), ...rows].join("\r\n") + "\r\n";
}

export function eventsToJson(events: AuditEvent[]): string {
  return JSON.stringify(events, null, 2) + "\n";
}

function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export interface DayCount {
  /** Local midnight starting the day. */
  day: number;
  count: number;
  denied: number;
}

/** Events per local day for the `days` days ending today (oldest first, zeros kept). */
export function eventsPerDay(events: AuditEvent[], days: number, now: number = Date.now()): DayCount[] {
  const today = startOfDay(now);
  const buckets: DayCount[] = [];
  const byDay = new Map<number, DayCount>();
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(today);
    d.setDate(d.getDate() - i); // calendar days, so DST changes do not shift buckets
    const bucket = { day: d.getTime(), count: 0, denied: 0 };
    buckets.push(bucket);
    byDay.set(bucket.day, bucket);
  }
  for (const e of events) {
    const bucket = byDay.get(startOfDay(e.at_ms));
    if (!bucket) continue;
    bucket.count += 1;
    if (e.outcome !== "ok") bucket.denied += 1;
  }
  return buckets;
}

/** A file name like coffer-audit-default-2026-11-24.csv. */
export function exportFileName(workspace: string, ext: "csv" | "json", now: number = Date.now()): string {
  const d = new Date(now);
  const date = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  return `coffer-audit-${workspace}-${date}.${ext}`;
}
