import { act, fireEvent, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({ commands: { checkHealth: vi.fn() } }));

import { commands } from "../../bindings";
import type { Finding } from "../../lib/types";
import { renderInSession } from "../../test/session";
import { checkLabel, findingSentence, HealthSection, healthSummary } from "./HealthSection";

const checkHealth = vi.mocked(commands.checkHealth);
const ok = <T,>(data: T) => Promise.resolve({ status: "ok" as const, data });

const WELL: Finding[] = [
  { level: "ok", check: "permissions", text: "/home/alice/.local/share/coffer/vault.db is 0600" },
  { level: "ok", check: "integrity", text: "SQLite's integrity check passes" },
  { level: "note", check: "keyring", text: "this device is not remembered: alice unlocks with the passphrase" },
];
const SICK: Finding[] = [
  ...WELL,
  {
    level: "fix",
    check: "permissions",
    text: "/v/vault.db is 0644, readable by others: chmod 600 '/v/vault.db'",
  },
];

beforeEach(() => {
  checkHealth.mockReset();
});

async function show() {
  await act(async () => {
    renderInSession(<HealthSection />);
  });
  return screen.getByRole("region", { name: "Health" });
}

describe("Settings: health", () => {
  it("lists each finding on one line with its level, and says nothing needs action", async () => {
    checkHealth.mockImplementation(() => ok(WELL));
    const card = await show();
    expect(checkHealth).toHaveBeenCalledWith({ workspace: "default", project: "default" });
    const items = within(within(card).getByRole("list", { name: "Findings" })).getAllByRole("listitem");
    expect(items.map((li) => li.textContent)).toEqual([
      "okPermissions/home/alice/.local/share/coffer/vault.db is 0600.",
      "okIntegritySQLite's integrity check passes.",
      "noteThis deviceThis device is not remembered: alice unlocks with the passphrase.",
    ]);
    expect(within(card).getByRole("status", { name: "Health summary" }).textContent).toBe("Nothing needs action.");
  });

  it("marks what needs action, and checks again when asked", async () => {
    checkHealth.mockImplementation(() => ok(WELL));
    const card = await show();
    checkHealth.mockImplementation(() => ok(SICK));
    await act(async () => {
      fireEvent.click(within(card).getByRole("button", { name: "Check again" }));
    });
    expect(checkHealth).toHaveBeenCalledTimes(2);
    const fix = within(card).getAllByRole("listitem")[3]!;
    expect(fix.textContent).toContain("needs action");
    expect(fix.textContent).toContain("chmod 600 '/v/vault.db'");
    expect(fix.className).toContain("finding-fix");
    expect(within(card).getByRole("status", { name: "Health summary" }).textContent).toBe("1 finding needs action.");
  });

  it("says why when the check itself fails", async () => {
    checkHealth.mockImplementation(() =>
      Promise.resolve({ status: "error" as const, error: { code: "auth", message: "the vault is locked" } }),
    );
    const card = await show();
    expect(within(card).getByRole("alert").textContent).toContain("Could not check the vault");
  });

  it("reads each finding as a sentence, keeping a member's name and a path as they are", () => {
    expect(findingSentence("the chain verifies (3 events)", "alice")).toBe("The chain verifies (3 events).");
    expect(findingSentence("alice's certificate chain verifies", "alice")).toBe("alice's certificate chain verifies.");
    expect(findingSentence("alicia left", "alice")).toBe("Alicia left.");
    expect(findingSentence("/v/vault.db is 0600", "alice")).toBe("/v/vault.db is 0600.");
    expect(findingSentence("done.", "alice")).toBe("Done.");
  });

  it("names checks in words and counts fixes", () => {
    expect(checkLabel("anchor")).toBe("Trail seen here");
    expect(checkLabel("agent")).toBe("Agent");
    expect(healthSummary(SICK.concat(SICK.slice(3))).text).toBe("2 findings need action.");
  });
});
