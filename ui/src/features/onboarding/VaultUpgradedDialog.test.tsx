import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({ commands: { copyValue: vi.fn() } }));

import { commands } from "../../bindings";
import { ToastProvider } from "../../components/Toast";
import { forgetCopiedSecret, hasPendingClear } from "../../lib/clipboard";
import { VaultUpgradedDialog } from "./VaultUpgradedDialog";

const HANDED = [
  { member: "carol", passphrase: "zz9y-xwvu-tsrq-pnmk-jhgf-edcb" },
  { member: "bob", passphrase: "ab2c-defg-hjk3-mnpq-rstu-vwx4" },
];

function renderDialog() {
  const onDone = vi.fn();
  render(
    <ToastProvider>
      <VaultUpgradedDialog passphrases={HANDED} onDone={onDone} />
    </ToastProvider>,
  );
  return onDone;
}

afterEach(() => {
  forgetCopiedSecret();
  vi.restoreAllMocks();
});

describe("Vault upgraded", () => {
  it("lists each member, by name, with their one-time passphrase", () => {
    renderDialog();
    expect(screen.getByRole("dialog", { name: "Vault upgraded" })).toBeTruthy();
    expect(screen.getByText(/only the keys their role needs/)).toBeTruthy();
    expect(screen.getByText(/Coffer keeps no copy/)).toBeTruthy();
    expect(screen.getByLabelText("One-time passphrase for carol").textContent).toBe(HANDED[0]!.passphrase);
    expect(screen.getByLabelText("One-time passphrase for bob").textContent).toBe(HANDED[1]!.passphrase);
    const table = screen.getByRole("table", { name: "One-time passphrases" });
    const members = within(table).getAllByRole("rowheader").map((th) => th.textContent);
    expect(members).toEqual(["bob", "carol"]);
  });

  it("closes only once the owner says they have them", () => {
    const onDone = renderDialog();
    expect(screen.queryByRole("button", { name: "Close dialog" })).toBeNull();
    fireEvent.keyDown(screen.getByRole("dialog"), { key: "Escape" });
    const done = screen.getByRole("button", { name: "Done" }) as HTMLButtonElement;
    expect(done.disabled).toBe(true);
    fireEvent.click(done);
    expect(onDone).not.toHaveBeenCalled();
    fireEvent.click(screen.getByLabelText("I have handed these out or noted them"));
    expect(done.disabled).toBe(false);
    fireEvent.click(done);
    expect(onDone).toHaveBeenCalledTimes(1);
  });

  it("copies one member's passphrase through the backend, to be cleared from the clipboard", async () => {
    const copyValue = vi.mocked(commands.copyValue);
    copyValue.mockResolvedValue({ status: "ok", data: { clearAfterMs: 30_000 } });
    renderDialog();
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Copy carol's passphrase" }));
    });
    expect(copyValue).toHaveBeenCalledWith(HANDED[0]!.passphrase);
    expect(hasPendingClear()).toBe(true);
    expect(screen.getByText(/Copied carol's passphrase. The clipboard clears in 30 s./)).toBeTruthy();
  });
});
