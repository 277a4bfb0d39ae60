import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi, type Mock } from "vitest";

// Every command answers nothing unless a test says otherwise: the shell behind the
// dialogs stays loading, which is all these tests need of it.
vi.mock("./bindings", async (importOriginal) => {
  const real = await importOriginal<typeof import("./bindings")>();
  return {
    commands: Object.fromEntries(Object.keys(real.commands).map((k) => [k, vi.fn(() => new Promise(() => undefined))])),
  };
});

// A channel without a webview (the Secrets screen streams its list through one).
vi.mock("@tauri-apps/api/core", () => ({
  Channel: class<T> {
    onmessage: (message: T) => void = () => undefined;
  },
}));

import { commands, type UnlockResult_Serialize, type VaultStatus_Serialize } from "./bindings";
import { App } from "./App";
import type { Capability, Role } from "./lib/types";

const vaultStatus = vi.mocked(commands.vaultStatus);
const unlock = vi.mocked(commands.unlock);
const lock = vi.mocked(commands.lock);
const ok = <T,>(data: T) => Promise.resolve({ status: "ok" as const, data });

const PATH = "/home/alice/.local/share/coffer/vault.db";
const HANDED = [{ member: "bob", passphrase: "ab2c-defg-hjk3-mnpq-rstu-vwx4" }];

function status(over: Partial<VaultStatus_Serialize> = {}): VaultStatus_Serialize {
  return {
    path: PATH,
    exists: true,
    unlocked: false,
    joining: false,
    member: null,
    change: 1,
    must_change_passphrase: false,
    trail_warning: null,
    ...over,
  };
}

function unlocked(over: Partial<UnlockResult_Serialize> = {}): UnlockResult_Serialize {
  return { member: "alice", keyring_note: null, change: 1, must_change_passphrase: false, one_time_passphrases: [], trail_warning: null, ...over };
}

async function unlockAs(member: string, result: UnlockResult_Serialize) {
  vaultStatus.mockResolvedValue(status());
  unlock.mockResolvedValue({ status: "ok", data: result });
  render(<App />);
  await screen.findByRole("heading", { name: "Unlock Coffer" });
  fireEvent.change(screen.getByLabelText("Member name"), { target: { value: member } });
  (screen.getByLabelText("Passphrase") as HTMLInputElement).value = "the passphrase 1";
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name: "Unlock" }));
  });
}

beforeEach(() => {
  localStorage.clear();
  for (const f of Object.values(commands) as Mock[]) f.mockReset().mockImplementation(() => new Promise(() => undefined));
});

describe("what a member sees first after unlock", () => {
  it("nothing but the vault when there is nothing to say", async () => {
    await unlockAs("alice", unlocked());
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("the upgrade's one-time passphrases, then the request to set their own", async () => {
    await unlockAs("alice", unlocked({ one_time_passphrases: HANDED, must_change_passphrase: true }));
    expect(screen.getByRole("dialog", { name: "Vault upgraded" })).toBeTruthy();
    expect(screen.queryByRole("dialog", { name: "Set your own passphrase" })).toBeNull();
    fireEvent.click(screen.getByLabelText("I have handed these out or noted them"));
    fireEvent.click(screen.getByRole("button", { name: "Done" }));
    expect(document.body.innerHTML).not.toContain(HANDED[0]!.passphrase);
    expect(screen.getByRole("dialog", { name: "Set your own passphrase" })).toBeTruthy();
  });

  it("a member on a given passphrase may only set their own or lock", async () => {
    await unlockAs("bob", unlocked({ member: "bob", must_change_passphrase: true }));
    expect(screen.getByRole("dialog", { name: "Set your own passphrase" })).toBeTruthy();
    lock.mockResolvedValue(undefined as never);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Lock for now" }));
    });
    expect(lock).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("heading", { name: "Unlock Coffer" })).toBeTruthy();
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("a window reloaded mid-session asks again", async () => {
    vaultStatus.mockResolvedValue(status({ unlocked: true, member: "bob", must_change_passphrase: true }));
    render(<App />);
    expect(await screen.findByRole("dialog", { name: "Set your own passphrase" })).toBeTruthy();
  });
});

describe("an audit trail that lost events this machine saw", () => {
  const WARNING =
    "The audit trail no longer holds event 42, which this machine saw: its tail was deleted or an older copy of the vault put back.";
  const banner = () => screen.queryByRole("region", { name: "Audit trail warning" });

  /** The shell loads one workspace and project, where the member holds `role`. */
  function shellLoads(role: Role, capabilities: Capability[]) {
    vi.mocked(commands.listWorkspaces).mockImplementation(() => ok([{ name: "default", role }]));
    vi.mocked(commands.listProjects).mockImplementation(() => ok([{ name: "default" }]));
    vi.mocked(commands.listEnvironments).mockImplementation(() => ok([]));
    vi.mocked(commands.getSettings).mockImplementation(() => ok([]));
    vi.mocked(commands.myAccess).mockImplementation(() => ok({ role, capabilities }));
  }

  it("says nothing when the trail holds what this machine saw", async () => {
    await unlockAs("alice", unlocked());
    expect(banner()).toBeNull();
  });

  it("shows the backend's sentence over the shell and leads to Audit, without blocking anything", async () => {
    shellLoads("auditor", ["list", "audit"]);
    await unlockAs("alice", unlocked({ trail_warning: WARNING }));
    const region = banner()!;
    expect(region.textContent).toContain(WARNING);
    expect(region.textContent).toContain("Audit → Verify chain");
    expect(region.textContent).not.toContain("coffer audit");
    expect(screen.queryByRole("dialog")).toBeNull();
    fireEvent.click(await within(region).findByRole("button", { name: "Open Audit" }));
    expect(await screen.findByRole("heading", { name: "Audit trail" })).toBeTruthy();
    // Still there, without pointing at the screen the member is on.
    expect(banner()!.textContent).toContain(WARNING);
    expect(within(banner()!).queryByRole("button")).toBeNull();
  });

  it("asks someone who may audit when the member may not", async () => {
    shellLoads("developer", ["list", "use"]);
    await unlockAs("bob", unlocked({ member: "bob", trail_warning: WARNING }));
    await waitFor(() => expect(banner()!.textContent).toContain("Ask an owner or auditor"));
    expect(banner()!.textContent).toContain(WARNING);
    expect(within(banner()!).queryByRole("button")).toBeNull();
  });

  it("still shows in a window reloaded mid-session", async () => {
    vaultStatus.mockResolvedValue(status({ unlocked: true, member: "alice", trail_warning: WARNING }));
    render(<App />);
    await waitFor(() => expect(banner()?.textContent).toContain(WARNING));
  });
});

describe("a restore from Settings → Backups", () => {
  const DIR = `${PATH}.snapshots`;
  const FROM = { path: `${DIR}/2026-12-01T090000.000Z-daily.db`, kind: "daily" as const, taken_at: Date.parse("2026-12-01T09:00:00Z"), bytes: 4096 };

  it("ends the session: the unlock screen says what was restored and where the old vault is, after the one-time passphrases", async () => {
    vi.mocked(commands.listWorkspaces).mockImplementation(() => ok([{ name: "default", role: "owner" }]));
    vi.mocked(commands.listProjects).mockImplementation(() => ok([{ name: "default" }]));
    vi.mocked(commands.listEnvironments).mockImplementation(() => ok([]));
    vi.mocked(commands.getSettings).mockImplementation(() => ok([]));
    vi.mocked(commands.myAccess).mockImplementation(() =>
      ok({ role: "owner" as const, capabilities: ["list", "use", "reveal", "write", "delete", "audit", "manage"] as Capability[] }),
    );
    vi.mocked(commands.listSnapshots).mockImplementation(() =>
      ok({ directory: DIR, keep: { daily: 7, weekly: 4 }, snapshots: [FROM] }),
    );
    vi.mocked(commands.restoreSnapshot).mockImplementation(() =>
      ok({
        restored: { vault_id: "ab12", from: FROM.path, kept: `${DIR}/2026-12-02T100000.000Z-before-restore.db`, replaced_another: false, head: 7 },
        one_time_passphrases: HANDED,
      }),
    );
    await unlockAs("alice", unlocked());
    fireEvent.click(await within(screen.getByRole("navigation", { name: "Main" })).findByRole("button", { name: /Settings/ }));
    fireEvent.click(await screen.findByRole("tab", { name: "Backups" }));
    fireEvent.click(await screen.findByRole("button", { name: /^Restore the snapshot of/ }));
    const dialog = screen.getByRole("dialog", { name: "Restore this snapshot?" });
    (within(dialog).getByLabelText("Passphrase when the snapshot was taken") as HTMLInputElement).value = "old pass phrase 1";
    await act(async () => {
      fireEvent.click(within(dialog).getByRole("button", { name: "Restore vault" }));
    });

    expect(screen.getByRole("heading", { name: "Unlock Coffer" })).toBeTruthy();
    const notice = screen.getAllByRole("status").find((s) => s.textContent?.includes("was restored"))!;
    expect(notice.textContent).toContain("The vault was restored from the daily snapshot of");
    expect(notice.textContent).toContain("kept beside it as a before-restore snapshot");
    expect(notice.textContent).toContain("Unlock with your passphrase as it was then.");
    // Shown once, over the unlock screen, and gone from the page when done.
    const handed = screen.getByRole("dialog", { name: "Vault upgraded" });
    expect(handed.textContent).toContain(HANDED[0]!.passphrase);
    fireEvent.click(screen.getByLabelText("I have handed these out or noted them"));
    fireEvent.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.body.innerHTML).not.toContain(HANDED[0]!.passphrase);
    expect(screen.getByRole("heading", { name: "Unlock Coffer" })).toBeTruthy();
  });
});

describe("a vault file waiting for its member's admission to a team", () => {
  it("opens on the join screen, not the unlock screen", async () => {
    vaultStatus.mockResolvedValue(status({ joining: true }));
    render(<App />);
    await screen.findByRole("heading", { name: "Finish joining your team" });
    expect(screen.queryByRole("heading", { name: "Unlock Coffer" })).toBeNull();
    expect(screen.getByLabelText("Your passphrase")).toBeTruthy();
  });
});
