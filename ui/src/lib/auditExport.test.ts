import { describe, expect, it } from "vitest";
import { eventsPerDay, eventsToCsv, eventsToJson, exportFileName, formulaSafe } from "./auditExport";
// The table coffer-core's test of `formula_safe` reads: one rule for the CLI and the app.
import sharedCells from "../../../src-tauri/crates/coffer-core/src/spreadsheet_cells.json";
import type { AuditEvent } from "./types";

const day = (y: number, m: number, d: number, h = 12) => new Date(y, m - 1, d, h).getTime();

function event(id: number, at_ms: number, over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id,
    at_ms,
    time: new Date(at_ms).toISOString(),
    actor: "alice",
    action: "secret.update",
    capability: "write",
    outcome: "ok",
    workspace: "default",
    project: "default",
    environment: "production",
    secret: "STRIPE_KEY",
    detail: { version: 2, reason: "rotation, \"quarterly\"" },
    ...over,
  };
}

describe("audit export", () => {
  it("writes a header and one CSV row per event, quoting where needed", () => {
    const csv = eventsToCsv([event(7, day(2026, 11, 24))]);
    const [header, row] = csv.split("\r\n");
    expect(header).toBe("id,time,actor,action,outcome,workspace,project,environment,secret,detail");
    expect(row).toContain("7,");
    expect(row).toContain(",alice,secret.update,ok,default,default,production,STRIPE_KEY,");
    expect(row).toContain('"{""version"":2,""reason"":""rotation, \\""quarterly\\""""}"');
  });

  it("defuses spreadsheet formulas", () => {
    const csv = eventsToCsv([event(1, day(2026, 11, 24), { actor: "=HYPERLINK(1)", detail: {} })]);
    expect(csv).toContain(",'=HYPERLINK(1),");
  });

  it("neutralises formula cells as the CLI does (shared table)", () => {
    const cases = sharedCells as [string, string][];
    expect(cases.length).toBeGreaterThanOrEqual(10);
    for (const [raw, expected] of cases) {
      expect(formulaSafe(raw), JSON.stringify(raw)).toBe(expected);
    }
  });

  it("exports JSON that parses back to the same events", () => {
    const events = [event(1, day(2026, 11, 23)), event(2, day(2026, 11, 24))];
    expect(JSON.parse(eventsToJson(events))).toEqual(events);
  });

  it("counts events per local day, keeping empty days", () => {
    const now = day(2026, 11, 24, 18);
    const counts = eventsPerDay(
      [
        event(1, day(2026, 11, 20)),
        event(2, day(2026, 11, 24, 1)),
        event(3, day(2026, 11, 24, 23), { outcome: "denied" }),
        event(4, day(2026, 10, 1)), // outside the window
      ],
      7,
      now,
    );
    expect(counts).toHaveLength(7);
    expect(counts.map((c) => c.count)).toEqual([0, 0, 1, 0, 0, 0, 2]);
    expect(counts[6]!.denied).toBe(1);
    expect(new Date(counts[0]!.day).getDate()).toBe(18);
  });

  it("names the file after the workspace and the date", () => {
    expect(exportFileName("default", "csv", day(2026, 3, 5))).toBe("coffer-audit-default-2026-03-05.csv");
  });
});
