import { act, fireEvent, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: { createVault: vi.fn(), removeRecoveryKey: vi.fn(), updateStatus: vi.fn(), setUpdatePreferences: vi.fn() },
}));

import { commands } from "../../bindings";
import { WORDS } from "../../test/recovery";
import { FirstRun } from "./FirstRun";

const createVault = vi.mocked(commands.createVault);
const removeRecoveryKey = vi.mocked(commands.removeRecoveryKey);
const updateStatus = vi.mocked(commands.updateStatus);
const setUpdatePreferences = vi.mocked(commands.setUpdatePreferences);
const MY_ENDPOINT = "https://updates.example.org/coffer/latest.json";
const updates = {
  current_version: "0.1.0",
  endpoint: MY_ENDPOINT,
  default_endpoint: "https://releases.example.org/latest.json",
  check_at_start: false,
  checking: false,
  last_check: null,
};
const PASS = "violet anchor meadow drum";

function type(label: string, value: string) {
  const input = screen.getByLabelText(label) as HTMLInputElement;
  if (input.type === "password") input.value = value;
  else fireEvent.change(input, { target: { value } });
  fireEvent.input(input);
}

const unlocked = {
  member: "alice",
  keyring_note: null,
  change: 3,
  must_change_passphrase: false,
  one_time_passphrases: [],
  trail_warning: null,
};

async function create(tick: (() => void) | null = null) {
  const onCreated = vi.fn();
  render(<FirstRun path="/tmp/vault.db" onCreated={onCreated} />);
  tick?.();
  type("Owner name", "alice");
  type("Passphrase", PASS);
  type("Repeat passphrase", PASS);
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name: "Create vault" }));
  });
  return onCreated;
}

function askedPositions(): number[] {
  return screen.getAllByRole("textbox").map((el) => {
    const label = document.querySelector(`label[for="${el.id}"]`)!.textContent!;
    return Number(/Word (\d+)/.exec(label)![1]) - 1;
  });
}

beforeEach(() => {
  createVault.mockReset();
  createVault.mockResolvedValue({ status: "ok", data: { unlocked, recovery_key: { words: [...WORDS] } } });
  removeRecoveryKey.mockReset();
  removeRecoveryKey.mockResolvedValue({ status: "ok", data: true });
  updateStatus.mockReset();
  updateStatus.mockResolvedValue(updates);
  setUpdatePreferences.mockReset();
  setUpdatePreferences.mockResolvedValue({ status: "ok", data: { ...updates, check_at_start: true } });
});

describe("first run", () => {
  it("says what a recovery key does for a forgotten passphrase", () => {
    render(<FirstRun path="/tmp/vault.db" onCreated={vi.fn()} />);
    expect(document.body.textContent).toContain("Recover on the unlock screen sets a new passphrase; without it, nothing can");
  });

  it("checks the owner name and passphrase before creating", async () => {
    render(<FirstRun path="/tmp/vault.db" onCreated={vi.fn()} />);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Create vault" }));
    });
    expect(screen.getByText("Enter your member name.")).toBeTruthy();
    type("Owner name", "alice");
    type("Passphrase", "short");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Create vault" }));
    });
    expect(createVault).not.toHaveBeenCalled();
  });

  it("shows the recovery key once, asks three words back, then goes on without them", async () => {
    const onCreated = await create();
    expect(createVault).toHaveBeenCalledWith("alice", PASS);
    expect(screen.getByRole("heading", { name: "Your recovery key" })).toBeTruthy();
    expect(screen.getAllByRole("listitem")).toHaveLength(24);
    expect(onCreated).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole("button", { name: "I have written them down" }));
    for (const i of askedPositions()) type(`Word ${i + 1}`, WORDS[i]!);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Check words" }));
    });
    expect(onCreated).toHaveBeenCalledWith(unlocked);
    // The words are gone from the screen (and from this component's state with it).
    for (const w of ["abandon", "abstract", "actual"]) expect(document.body.innerHTML).not.toContain(w);
    expect(removeRecoveryKey).not.toHaveBeenCalled();
  });

  it("lets the owner make one later: the key nobody wrote down is removed", async () => {
    const onCreated = await create();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "I will make one later" }));
    });
    expect(removeRecoveryKey).toHaveBeenCalledTimes(1);
    expect(onCreated).toHaveBeenCalledWith(unlocked);
    expect(document.body.innerHTML).not.toContain("abandon");
  });

  it("leaves the check for updates at start off unless the owner ticks it", async () => {
    await create(() =>
      expect((screen.getByLabelText("Check for updates at start") as HTMLInputElement).checked).toBe(false),
    );
    expect(createVault).toHaveBeenCalledTimes(1);
    expect(setUpdatePreferences).not.toHaveBeenCalled();
  });

  it("turns the check on once the vault exists when ticked, keeping the endpoint", async () => {
    await create(() => fireEvent.click(screen.getByLabelText("Check for updates at start")));
    expect(setUpdatePreferences).toHaveBeenCalledWith(MY_ENDPOINT, true);
    expect(createVault.mock.invocationCallOrder[0]!).toBeLessThan(setUpdatePreferences.mock.invocationCallOrder[0]!);
    expect(screen.getByRole("heading", { name: "Your recovery key" })).toBeTruthy();
  });

  it("goes on to the recovery key, saying so, when the check cannot be turned on", async () => {
    setUpdatePreferences.mockResolvedValue({ status: "error", error: { code: "denied", message: "no" } });
    await create(() => fireEvent.click(screen.getByLabelText("Check for updates at start")));
    expect(screen.getByRole("heading", { name: "Your recovery key" })).toBeTruthy();
    expect(document.body.textContent).toContain("Checking for updates at start is still off");
  });

  it("stays on the words, and says why, when the key cannot be removed", async () => {
    removeRecoveryKey.mockResolvedValue({ status: "error", error: { code: "io", message: "disk full" } });
    const onCreated = await create();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "I will make one later" }));
    });
    expect(onCreated).not.toHaveBeenCalled();
    const alerts = screen.getAllByRole("alert").map((a) => a.textContent);
    expect(alerts.some((t) => t?.includes("Could not put it off") && t.includes("Disk full."))).toBe(true);
    expect(screen.getAllByRole("listitem")).toHaveLength(24);
  });
});
