import { act, fireEvent, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: { unlock: vi.fn(), unlockWithDevice: vi.fn(), deviceRemembered: vi.fn() },
}));

import { commands } from "../../bindings";
import { ENTER_MEMBER, ENTER_PASSPHRASE } from "../../components/PassphraseForm";
import { Unlock } from "./Unlock";

const unlock = vi.mocked(commands.unlock);
const remembered = vi.mocked(commands.deviceRemembered);
const withDevice = vi.mocked(commands.unlockWithDevice);

const result = {
  member: "alice",
  keyring_note: null,
  change: 1,
  must_change_passphrase: false,
  one_time_passphrases: [],
  trail_warning: null,
};

async function click(name: string) {
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name }));
  });
}

beforeEach(() => {
  vi.useRealTimers();
  for (const m of [unlock, remembered, withDevice]) m.mockReset();
  remembered.mockResolvedValue({ status: "ok", data: false });
  localStorage.clear();
});

describe("Unlock", () => {
  it("asks for a name and a passphrase, sends them once and empties the field", async () => {
    const onUnlocked = vi.fn();
    render(<Unlock path="/tmp/vault.db" notice={null} onUnlocked={onUnlocked} />);
    await click("Unlock");
    expect(screen.getByText(ENTER_MEMBER)).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Member name"), { target: { value: "alice" } });
    await click("Unlock");
    expect(screen.getByText(ENTER_PASSPHRASE)).toBeTruthy();

    unlock.mockResolvedValueOnce({ status: "error", error: { code: "auth", message: "wrong member name or passphrase" } });
    const pass = screen.getByLabelText("Passphrase") as HTMLInputElement;
    pass.value = "not it at all";
    await click("Unlock");
    expect(screen.getByText("Wrong member name or passphrase.")).toBeTruthy();
    expect(pass.value).toBe("");

    unlock.mockResolvedValueOnce({ status: "ok", data: result });
    pass.value = "correct horse battery staple";
    fireEvent.click(screen.getByLabelText("Remember on this device"));
    await click("Unlock");
    expect(unlock).toHaveBeenLastCalledWith("alice", "correct horse battery staple", true);
    expect(onUnlocked).toHaveBeenCalledWith(result);
  });

  it("offers the device key when this device remembers the member", async () => {
    remembered.mockResolvedValue({ status: "ok", data: true });
    withDevice.mockResolvedValue({ status: "ok", data: result });
    const onUnlocked = vi.fn();
    render(<Unlock path="/tmp/vault.db" notice="Coffer locked itself." onUnlocked={onUnlocked} />);
    expect(screen.getByText("Coffer locked itself.")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Member name"), { target: { value: "alice" } });
    await act(async () => {
      await new Promise((r) => setTimeout(r, 300));
    });
    await click("Unlock with this device");
    expect(withDevice).toHaveBeenCalledWith("alice");
    expect(onUnlocked).toHaveBeenCalledWith(result);
  });
});
