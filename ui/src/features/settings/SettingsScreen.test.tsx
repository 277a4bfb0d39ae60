import { act, fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

// Settings loads several things; only the passphrase row matters here.
vi.mock("../../bindings", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../bindings")>();
  return {
    commands: Object.fromEntries(Object.keys(real.commands).map((k) => [k, vi.fn(() => new Promise(() => undefined))])),
  };
});

import { commands } from "../../bindings";
import { renderInSession } from "../../test/session";
import { SettingsScreen } from "./SettingsScreen";

describe("Settings", () => {
  it("changes the member's passphrase in the shared dialog, which Cancel closes", async () => {
    await act(async () => {
      renderInSession(<SettingsScreen vaultPath="/tmp/vault.db" />);
    });
    const card = screen.getByRole("region", { name: "Your passphrase" });
    expect(card.textContent).toContain("Opens the vault as alice");
    fireEvent.click(within(card).getByRole("button", { name: "Change passphrase" }));
    const dialog = screen.getByRole("dialog", { name: "Change passphrase" });
    expect(within(dialog).getByLabelText("Current passphrase")).toBeTruthy();
    expect(within(dialog).getByLabelText("Repeat new passphrase")).toBeTruthy();
    fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(commands.changePassphrase).not.toHaveBeenCalled();
  });
});
