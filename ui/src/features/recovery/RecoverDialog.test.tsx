import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: { recover: vi.fn(), unlock: vi.fn(), deviceRemembered: vi.fn(async () => ({ status: "ok", data: false })) },
}));

import { commands } from "../../bindings";
import { WORDS } from "../../test/recovery";
import { Unlock } from "../onboarding/Unlock";
import { ENTER_WORDS } from "./RecoverDialog";

const recover = vi.mocked(commands.recover);
const NEW = "violet anchor meadow drum";

function type(label: string, value: string) {
  const dialog = screen.getByRole("dialog");
  const input = within(dialog).getByLabelText(label) as HTMLInputElement;
  if (input.type === "password" || input.tagName === "TEXTAREA") input.value = value;
  else fireEvent.change(input, { target: { value } });
  fireEvent.input(input);
}

const result = {
  member: "alice",
  keyring_note: null,
  change: 9,
  must_change_passphrase: false,
  one_time_passphrases: [],
  trail_warning: null,
};

function openRecover() {
  const onUnlocked = vi.fn();
  render(<Unlock path="/tmp/vault.db" notice={null} onUnlocked={onUnlocked} />);
  fireEvent.click(screen.getByRole("button", { name: "Forgot your passphrase?" }));
  return { onUnlocked, dialog: screen.getByRole("dialog", { name: "Recover with your recovery key" }) };
}

async function submit(dialog: HTMLElement) {
  await act(async () => {
    fireEvent.click(within(dialog).getByRole("button", { name: "Recover and unlock" }));
  });
}

beforeEach(() => {
  recover.mockReset();
  localStorage.clear();
});

describe("Recover from the unlock screen", () => {
  it("sets a new passphrase with the words and unlocks as that member", async () => {
    recover.mockResolvedValue({ status: "ok", data: result });
    const { onUnlocked, dialog } = openRecover();
    type("Member name", "alice");
    const typed = WORDS.map((w, i) => `${i + 1}. ${w}`).join("\n");
    type("Recovery key", typed);
    type("New passphrase", NEW);
    type("Repeat new passphrase", NEW);
    await submit(dialog);
    expect(recover).toHaveBeenCalledWith("alice", typed, NEW);
    expect(onUnlocked).toHaveBeenCalledWith(result);
    expect((screen.getByLabelText("Recovery key") as HTMLTextAreaElement).value).toBe("");
  });

  it("asks for the words, and for the same strong passphrase twice, before the backend", async () => {
    const { dialog } = openRecover();
    type("Member name", "alice");
    await submit(dialog);
    expect(within(dialog).getByText(ENTER_WORDS)).toBeTruthy();
    type("Recovery key", WORDS.join(" "));
    type("New passphrase", NEW);
    type("Repeat new passphrase", "something else entirely");
    await submit(dialog);
    expect(within(dialog).getByText("The two passphrases differ.")).toBeTruthy();
    expect(recover).not.toHaveBeenCalled();
  });

  it("shows the backend's refusal and keeps the words to mend", async () => {
    const { dialog } = openRecover();
    type("Member name", "alice");
    type("Recovery key", WORDS.slice(0, 23).join(" "));
    for (const error of [
      { code: "invalid", message: "a recovery key is 24 words; this has 23" },
      { code: "auth", message: "wrong member name or recovery key (or no recovery key was made for that member)" },
    ]) {
      recover.mockResolvedValueOnce({ status: "error", error });
      type("New passphrase", NEW);
      type("Repeat new passphrase", NEW);
      await submit(dialog);
      expect(within(dialog).getByText(error.message.charAt(0).toUpperCase() + error.message.slice(1) + ".")).toBeTruthy();
    }
    expect((screen.getByLabelText("Recovery key") as HTMLTextAreaElement).value).toContain("abandon");
    // Never in the page's HTML, though.
    expect(document.body.innerHTML).not.toContain("abandon");
  });

  it("closes with Cancel", () => {
    openRecover();
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});
