import { describe, expect, it } from "vitest";
import { formatDateTime } from "./format";
import { describeKeep, fileName, parseKeep, restorable, restoredNotice, shortPath } from "./snapshots";
import type { Snapshot } from "./types";

const DIR = "/home/alice/.local/share/coffer/vault.db.snapshots";
const snap = (kind: Snapshot["kind"], taken_at = 1_796_000_000_000): Snapshot => ({
  path: `${DIR}/2026-12-02T163934.123Z-${kind}.db`,
  kind,
  taken_at,
  bytes: 40960,
});

describe("snapshot paths and kinds", () => {
  it("shortens long paths to their last parts and keeps short ones whole", () => {
    expect(shortPath(DIR)).toBe("…/coffer/vault.db.snapshots");
    expect(shortPath(DIR, 3)).toBe("…/share/coffer/vault.db.snapshots");
    expect(shortPath("/tmp/x")).toBe("/tmp/x");
    expect(fileName(`${DIR}/2026-12-02T163934.123Z-daily.db`)).toBe("2026-12-02T163934.123Z-daily.db");
    expect(fileName("vault.db")).toBe("vault.db");
  });

  it("never offers a damaged file for a restore", () => {
    expect(restorable(snap("daily"))).toBe(true);
    expect(restorable(snap("before-restore"))).toBe(true);
    expect(restorable(snap("damaged"))).toBe(false);
  });
});

describe("rotation", () => {
  it("says how many are kept, and that both at 0 turn daily snapshots off", () => {
    expect(describeKeep({ daily: 7, weekly: 4 })).toBe(
      "Keeping the newest daily snapshot of each of the last 7 days and 4 weeks.",
    );
    expect(describeKeep({ daily: 1, weekly: 0 })).toContain("1 day and 0 weeks");
    expect(describeKeep({ daily: 0, weekly: 0 })).toBe("Daily snapshots are off.");
  });

  it("accepts whole numbers in range only", () => {
    expect(parseKeep(" 7 ", 366)).toBe(7);
    expect(parseKeep("0", 366)).toBe(0);
    expect(parseKeep("367", 366)).toBeNull();
    expect(parseKeep("-1", 366)).toBeNull();
    expect(parseKeep("2.5", 366)).toBeNull();
    expect(parseKeep("", 366)).toBeNull();
  });
});

describe("after a restore", () => {
  it("names the snapshot put back and where the vault as it was is kept", () => {
    const from = snap("daily");
    const notice = restoredNotice(from, {
      restored: {
        vault_id: "ab12",
        from: from.path,
        kept: `${DIR}/2026-12-03T090000.000Z-before-restore.db`,
        replaced_another: false,
        head: 42,
      },
      one_time_passphrases: [],
    });
    expect(notice).toBe(
      `The vault was restored from the daily snapshot of ${formatDateTime(from.taken_at!)}; its directory and audit trail verify. ` +
        "The vault as it was is kept beside it as a before-restore snapshot, listed under Settings → Backups. " +
        "Unlock with your passphrase as it was then.",
    );
  });
});
