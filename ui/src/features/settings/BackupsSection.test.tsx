import { act, fireEvent, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: {
    listSnapshots: vi.fn(),
    backUpNow: vi.fn(),
    setSnapshotKeep: vi.fn(),
    restoreSnapshot: vi.fn(),
  },
}));

import { commands } from "../../bindings";
import { formatDateTime } from "../../lib/format";
import type { Backups, RestoreOutcome, Snapshot } from "../../lib/types";
import { renderInSession, testSession } from "../../test/session";
import { BackupsSection } from "./BackupsSection";

const listSnapshots = vi.mocked(commands.listSnapshots);
const backUpNow = vi.mocked(commands.backUpNow);
const setSnapshotKeep = vi.mocked(commands.setSnapshotKeep);
const restoreSnapshot = vi.mocked(commands.restoreSnapshot);
const ok = <T,>(data: T) => Promise.resolve({ status: "ok" as const, data });

const DIR = "/home/alice/.local/share/coffer/vault.db.snapshots";
const HOUR = 3_600_000;
const NOW = Date.now();
const snap = (kind: Snapshot["kind"], ago: number, bytes = 48 * 1024): Snapshot => {
  const taken_at = NOW - ago;
  const stamp = new Date(taken_at).toISOString().replace(/:/g, "");
  return { path: `${DIR}/${stamp}-${kind}.db`, kind, taken_at, bytes };
};

const DAILY = snap("daily", 2 * HOUR);
const DAMAGED = snap("damaged", 1 * HOUR, 4096);
const UPGRADE = snap("upgrade", 30 * 24 * HOUR);
const BACKUPS: Backups = {
  directory: DIR,
  keep: { daily: 7, weekly: 4 },
  snapshots: [DAMAGED, DAILY, UPGRADE],
};

beforeEach(() => {
  for (const f of [listSnapshots, backUpNow, setSnapshotKeep, restoreSnapshot]) f.mockReset();
  listSnapshots.mockImplementation(() => ok(BACKUPS));
});

async function show(onRestored = vi.fn(), session = testSession()) {
  await act(async () => {
    renderInSession(<BackupsSection onRestored={onRestored} />, session);
  });
  return onRestored;
}

const backupsCard = () => screen.getByRole("region", { name: "Backups" });
const rows = () => within(screen.getByRole("table", { name: "Snapshots" })).getAllByRole("row").slice(1);

describe("Settings: backups", () => {
  it("shows where snapshots are kept, the newest one that can be restored, and every snapshot newest first", async () => {
    await show();
    const folder = within(backupsCard()).getByLabelText("Snapshot folder");
    expect(folder.textContent).toBe("…/coffer/vault.db.snapshots");
    expect(folder.getAttribute("title")).toBe(DIR);
    const newest = within(backupsCard()).getByLabelText("Newest snapshot");
    expect(newest.textContent).toContain("daily");
    expect(newest.textContent).toContain(formatDateTime(DAILY.taken_at!));
    expect(newest.textContent).toContain("2 hours ago");
    expect(newest.textContent).toContain("48 KB");
    expect(backupsCard().textContent).toContain("Keeping the newest daily snapshot of each of the last 7 days and 4 weeks.");

    const [damaged, daily, upgrade] = rows();
    expect(daily!.textContent).toContain(formatDateTime(DAILY.taken_at!));
    expect(upgrade!.textContent).toContain("before upgrade");
    expect(upgrade!.getAttribute("title")).toBe(UPGRADE.path);
    // A damaged file is listed (nothing of it is lost) but offers no restore.
    expect(damaged!.textContent).toContain("damaged");
    expect(within(damaged!).queryByRole("button")).toBeNull();
    expect(within(daily!).getByRole("button", { name: `Restore the snapshot of ${formatDateTime(DAILY.taken_at!)}` })).toBeTruthy();
  });

  it("backs up now and lists the new snapshot", async () => {
    const made = snap("manual", 0);
    backUpNow.mockImplementation(() => ok(made));
    await show();
    listSnapshots.mockImplementation(() => ok({ ...BACKUPS, snapshots: [made, ...BACKUPS.snapshots] }));
    await act(async () => {
      fireEvent.click(within(backupsCard()).getByRole("button", { name: "Back up now" }));
    });
    expect(backUpNow).toHaveBeenCalledTimes(1);
    expect(rows()).toHaveLength(4);
    expect(rows()[0]!.textContent).toContain("manual");
    expect(within(backupsCard()).getByLabelText("Newest snapshot").textContent).toContain("manual");
  });

  it("saves the rotation, 0 and 0 turning daily snapshots off, and checks the numbers first", async () => {
    setSnapshotKeep.mockImplementation((daily, weekly) => ok({ daily, weekly }));
    await show();
    fireEvent.change(screen.getByLabelText("Days to keep"), { target: { value: "x" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Save snapshot rotation" }));
    });
    expect(setSnapshotKeep).not.toHaveBeenCalled();
    expect(within(backupsCard()).getByRole("alert").textContent).toContain("whole numbers");

    fireEvent.change(screen.getByLabelText("Days to keep"), { target: { value: "0" } });
    fireEvent.change(screen.getByLabelText("Weeks to keep"), { target: { value: "0" } });
    listSnapshots.mockImplementation(() => ok({ ...BACKUPS, keep: { daily: 0, weekly: 0 } }));
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Save snapshot rotation" }));
    });
    expect(setSnapshotKeep).toHaveBeenCalledWith(0, 0);
    expect(backupsCard().textContent).toContain("Daily snapshots are off.");
  });

  it("leaves the rotation and restores to those who may, with the reason said", async () => {
    await show(vi.fn(), testSession({ access: { role: "developer", capabilities: ["list", "use"] } }));
    expect((screen.getByLabelText("Days to keep") as HTMLInputElement).disabled).toBe(true);
    expect(screen.queryByRole("button", { name: "Save snapshot rotation" })).toBeNull();
    expect(backupsCard().textContent).toContain("Only members who may manage can change this.");
    expect(screen.getByRole("region", { name: /Snapshots/ }).textContent).toContain("Only owners can restore.");
    for (const b of within(screen.getByRole("table", { name: "Snapshots" })).getAllByRole("button")) {
      expect((b as HTMLButtonElement).disabled).toBe(true);
    }
    // Anyone unlocked may take a snapshot.
    expect((within(backupsCard()).getByRole("button", { name: "Back up now" }) as HTMLButtonElement).disabled).toBe(false);
  });
});

describe("Settings: restoring a snapshot", () => {
  function openRestore() {
    fireEvent.click(within(rows()[1]!).getByRole("button", { name: /^Restore the snapshot of/ }));
    return screen.getByRole("dialog", { name: "Restore this snapshot?" });
  }

  it("explains what happens, asks the passphrase as it was then, and hands the outcome on", async () => {
    const outcome: RestoreOutcome = {
      restored: { vault_id: "ab12", from: DAILY.path, kept: `${DIR}/x-before-restore.db`, replaced_another: false, head: 9 },
      one_time_passphrases: [],
    };
    restoreSnapshot.mockImplementation(() => ok(outcome));
    const onRestored = await show();
    const dialog = openRestore();
    const text = dialog.textContent!;
    expect(text).toContain(`The daily snapshot of ${formatDateTime(DAILY.taken_at!)}`);
    expect(text).toContain("integrity check, every signed row of its directory and its whole audit trail");
    expect(text).toContain("The vault as it is now is kept as a snapshot");
    expect(text).toContain("The restore is recorded in the audit trail");
    expect(text).toContain(`Everything changed since ${formatDateTime(DAILY.taken_at!)}, in every workspace, is turned back`);
    expect(text).toContain(DAILY.path);

    // Nothing is sent without a passphrase.
    await act(async () => {
      fireEvent.click(within(dialog).getByRole("button", { name: "Restore vault" }));
    });
    expect(restoreSnapshot).not.toHaveBeenCalled();
    expect(within(dialog).getByRole("alert").textContent).toBe("Enter your passphrase as it was then.");

    const field = within(dialog).getByLabelText("Passphrase when the snapshot was taken") as HTMLInputElement;
    expect(field.type).toBe("password");
    field.value = "old pass phrase 1";
    await act(async () => {
      fireEvent.click(within(dialog).getByRole("button", { name: "Restore vault" }));
    });
    expect(restoreSnapshot).toHaveBeenCalledWith(DAILY.path, "old pass phrase 1");
    expect(field.value).toBe("");
    expect(onRestored).toHaveBeenCalledWith(DAILY, outcome);
  });

  it("shows a refusal in the dialog and changes nothing", async () => {
    restoreSnapshot.mockImplementation(() =>
      Promise.resolve({ status: "error" as const, error: { code: "auth", message: "wrong member name or passphrase" } }),
    );
    const onRestored = await show();
    const dialog = openRestore();
    (within(dialog).getByLabelText("Passphrase when the snapshot was taken") as HTMLInputElement).value = "typo";
    await act(async () => {
      fireEvent.click(within(dialog).getByRole("button", { name: "Restore vault" }));
    });
    const alert = within(dialog).getByRole("alert");
    expect(alert.textContent).toContain("Nothing was restored");
    expect(alert.textContent).toContain("Wrong member name or passphrase.");
    expect(onRestored).not.toHaveBeenCalled();
    fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});
