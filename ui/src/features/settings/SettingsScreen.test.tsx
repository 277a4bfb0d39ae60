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

  it("opens on General, and Backups and Health in their own tabs", async () => {
    await act(async () => {
      renderInSession(<SettingsScreen vaultPath="/tmp/vault.db" />);
    });
    const tabs = screen.getByRole("tablist", { name: "Settings sections" });
    const tab = (name: string) => within(tabs).getByRole("tab", { name });
    expect(tab("General").getAttribute("aria-selected")).toBe("true");
    expect(screen.getByRole("region", { name: "Versions and recovery" })).toBeTruthy();
    expect(screen.queryByRole("region", { name: "Backups" })).toBeNull();

    await act(async () => {
      fireEvent.click(tab("Backups"));
    });
    expect(tab("Backups").getAttribute("aria-selected")).toBe("true");
    expect(screen.getByRole("tabpanel").getAttribute("aria-labelledby")).toBe("settings-tab-backups");
    expect(screen.getByRole("region", { name: "Backups" })).toBeTruthy();
    expect(screen.queryByRole("region", { name: "Versions and recovery" })).toBeNull();
    expect(commands.listSnapshots).toHaveBeenCalled();

    // Arrow keys move along the tabs.
    await act(async () => {
      fireEvent.keyDown(tab("Backups"), { key: "ArrowRight" });
    });
    expect(tab("Health").getAttribute("aria-selected")).toBe("true");
    expect(screen.getByRole("region", { name: "Health" })).toBeTruthy();
    expect(commands.checkHealth).toHaveBeenCalled();
  });
});
