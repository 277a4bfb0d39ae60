import { act, fireEvent, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: { recoveryKeyStatus: vi.fn(), confirmPassphrase: vi.fn(), replaceRecoveryKey: vi.fn() },
}));

import { commands } from "../../bindings";
import { WORDS } from "../../test/recovery";
import { renderInSession } from "../../test/session";
import { OWNERS_ONLY, RecoveryKeySetting } from "./RecoveryKeySection";

const status = vi.mocked(commands.recoveryKeyStatus);
const confirm = vi.mocked(commands.confirmPassphrase);
const replace = vi.mocked(commands.replaceRecoveryKey);

async function show() {
  await act(async () => {
    renderInSession(<RecoveryKeySetting />);
  });
}

function type(container: HTMLElement, label: string, value: string) {
  const input = within(container).getByLabelText(label) as HTMLInputElement;
  input.value = value;
  fireEvent.input(input);
}

beforeEach(() => {
  for (const m of [status, confirm, replace]) m.mockReset();
});

describe("Settings → Recovery key", () => {
  it("lets an owner replace it after confirming the passphrase, with the three-words check", async () => {
    status.mockResolvedValue({ status: "ok", data: { exists: true, may_hold: true } });
    confirm.mockResolvedValue({ status: "ok", data: null });
    replace.mockResolvedValue({ status: "ok", data: { words: [...WORDS] } });
    await show();
    expect(document.body.textContent).toContain("You have one");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Replace recovery key…" }));
    });
    const prompt = screen.getByRole("dialog", { name: "Confirm your passphrase" });
    expect(replace).not.toHaveBeenCalled();
    type(prompt, "Your passphrase", "owner pass phrase");
    await act(async () => {
      fireEvent.click(within(prompt).getByRole("button", { name: "Confirm and continue" }));
    });
    expect(confirm).toHaveBeenCalledWith("owner pass phrase");
    expect(replace).toHaveBeenCalledTimes(1);

    const dialog = screen.getByRole("dialog", { name: "Your new recovery key" });
    expect(within(dialog).getAllByRole("listitem")).toHaveLength(24);
    // No "later" here, and no way to close it but the check.
    expect(within(dialog).queryByRole("button", { name: "I will make one later" })).toBeNull();
    expect(within(dialog).queryByRole("button", { name: "Close dialog" })).toBeNull();
    fireEvent.click(within(dialog).getByRole("button", { name: "I have written them down" }));
    for (const field of within(dialog).getAllByRole("textbox")) {
      const n = Number(/Word (\d+)/.exec(document.querySelector(`label[for="${field.id}"]`)!.textContent!)![1]);
      type(dialog, `Word ${n}`, WORDS[n - 1]!);
    }
    await act(async () => {
      fireEvent.click(within(dialog).getByRole("button", { name: "Check words" }));
    });
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.body.innerHTML).not.toContain("abandon");
    expect(document.body.textContent).toContain("The old one opens nothing from now on");
  });

  it("does not replace it when the passphrase prompt is cancelled", async () => {
    status.mockResolvedValue({ status: "ok", data: { exists: false, may_hold: true } });
    await show();
    expect(document.body.textContent).toContain("You have none");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Make a recovery key…" }));
    });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    });
    expect(replace).not.toHaveBeenCalled();
  });

  it("warns an owner who has none, on every start, and offers to make one", async () => {
    status.mockResolvedValue({ status: "ok", data: { exists: false, may_hold: true } });
    await show();
    expect(screen.getByRole("alert").textContent).toContain("Make your recovery key");
    expect(screen.getByRole("button", { name: "Make a recovery key…" })).toBeTruthy();
  });

  it("tells a member who is not an owner why there is no action", async () => {
    status.mockResolvedValue({ status: "ok", data: { exists: false, may_hold: false } });
    await show();
    expect(document.body.textContent).toContain(OWNERS_ONLY);
    expect(screen.queryByRole("button")).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
