import { describe, expect, it } from "vitest";
import { DAY } from "./format";
import { archiveCutoff, shellQuote, verifyCommand } from "./trail";

describe("verifyCommand", () => {
  it("leaves a plain path as it is", () => {
    expect(verifyCommand("/home/alice/Downloads/coffer-audit-2026-12-02.jsonl")).toBe(
      "coffer audit verify --file /home/alice/Downloads/coffer-audit-2026-12-02.jsonl",
    );
  });

  it("quotes the second file of a day, which has a space and parentheses", () => {
    expect(shellQuote("/home/alice/Downloads/coffer-audit-2026-12-02 (2).jsonl")).toBe(
      "'/home/alice/Downloads/coffer-audit-2026-12-02 (2).jsonl'",
    );
    expect(shellQuote("/tmp/it's here.jsonl")).toBe("'/tmp/it'\\''s here.jsonl'");
  });
});

describe("archiveCutoff", () => {
  const now = Date.parse("2026-12-02T12:00:00Z");

  it("counts a duration back from now", () => {
    expect(archiveCutoff("365d", now)).toBe(now - 365 * DAY);
    expect(archiveCutoff(" 90d ", now)).toBe(now - 90 * DAY);
  });

  it("reads a date as midnight UTC, as the backend does", () => {
    expect(archiveCutoff("2026-11-01", now)).toBe(Date.parse("2026-11-01T00:00:00Z"));
    expect(archiveCutoff("2026-11-01T08:30:00Z", now)).toBe(Date.parse("2026-11-01T08:30:00Z"));
  });

  it("gives nothing for what it cannot read", () => {
    expect(archiveCutoff("", now)).toBeNull();
    expect(archiveCutoff("last year", now)).toBeNull();
    expect(archiveCutoff("0d", now)).toBeNull();
  });
});
