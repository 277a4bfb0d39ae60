import { act, fireEvent, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({ commands: { archiveAudit: vi.fn() } }));

import { commands } from "../../bindings";
import { formatDateTime } from "../../lib/format";
import { renderInSession, testSession } from "../../test/session";
import { ArchiveSection } from "./ArchiveSection";

const archiveAudit = vi.mocked(commands.archiveAudit);
const PATH = "/home/alice/Downloads/coffer-audit-archive-until-2025-12-02.jsonl";

beforeEach(() => {
  archiveAudit.mockReset();
});

function openConfirm(before?: string) {
  const card = screen.getByRole("region", { name: "Audit archive" });
  const input = within(card).getByLabelText("Archive events before") as HTMLInputElement;
  if (before !== undefined) fireEvent.change(input, { target: { value: before } });
  fireEvent.click(within(card).getByRole("button", { name: "Archive…" }));
  return screen.getByRole("dialog", { name: "Archive audit events?" });
}

describe("Settings: audit archive", () => {
  it("asks first, explaining the move and the signed mark, then archives and says where", async () => {
    archiveAudit.mockResolvedValue({
      status: "ok",
      data: { path: PATH, copy: { events: 120, first: 1, last: 120, head: "cd".repeat(32), root: "3f2a 9c1b 0a2e 11fd 8c3b 77e0 41aa 9d02" } },
    });
    renderInSession(<ArchiveSection />);
    expect((screen.getByLabelText("Archive events before") as HTMLInputElement).value).toBe("365d");
    const dialog = openConfirm();
    expect(dialog.textContent).toContain("moves out of the vault into a new file");
    expect(dialog.textContent).toContain("signed archive mark");
    expect(archiveAudit).not.toHaveBeenCalled();
    await act(async () => {
      fireEvent.click(within(dialog).getByRole("button", { name: "Archive events" }));
    });
    expect(archiveAudit).toHaveBeenCalledWith("default", "365d");
    expect(screen.queryByRole("dialog")).toBeNull();
    const card = screen.getByRole("region", { name: "Audit archive" });
    const result = within(card).getByRole("status");
    expect(result.textContent).toContain("Archived 120 events (1 to 120)");
    expect(result.textContent).toContain(`Saved to ${PATH}`);
    expect(result.textContent).toContain("Anyone can check the file offline with coffer audit verify --file.");
  });

  it("sends a date as typed, and Cancel archives nothing", () => {
    renderInSession(<ArchiveSection />);
    const dialog = openConfirm("2025-01-15");
    expect(dialog.textContent).toContain(`Every event before ${formatDateTime(Date.parse("2025-01-15T00:00:00Z"))}`);
    fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(archiveAudit).not.toHaveBeenCalled();
  });

  it("keeps the dialog open with the backend's reason when it refuses", async () => {
    archiveAudit.mockResolvedValue({
      status: "error",
      error: { code: "invalid", message: "no events before 365d are left to archive" },
    });
    renderInSession(<ArchiveSection />);
    const dialog = openConfirm();
    await act(async () => {
      fireEvent.click(within(dialog).getByRole("button", { name: "Archive events" }));
    });
    expect(within(dialog).getByRole("alert").textContent).toContain("No events before 365d are left to archive.");
    expect(screen.queryByRole("status", { name: /Archived/ })).toBeNull();
  });

  it("is disabled for a member who may not manage, as the other owner settings are", () => {
    renderInSession(<ArchiveSection />, testSession({ access: { role: "auditor", capabilities: ["list", "audit"] } }));
    const card = screen.getByRole("region", { name: "Audit archive" });
    expect((within(card).getByLabelText("Archive events before") as HTMLInputElement).disabled).toBe(true);
    expect((within(card).getByRole("button", { name: "Archive…" }) as HTMLButtonElement).disabled).toBe(true);
    expect(card.textContent).toContain("Only owners can archive.");
  });
});
