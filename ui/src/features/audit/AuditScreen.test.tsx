import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: {
    auditEvents: vi.fn(),
    verifyAudit: vi.fn(),
    listMembers: vi.fn(),
    trailState: vi.fn(),
    checkpointAudit: vi.fn(),
    exportAuditTrail: vi.fn(),
    saveAuditEvents: vi.fn(),
    teamAudit: vi.fn(),
  },
}));

import { commands, type TrailState_Serialize, type VerifyReport_Serialize } from "../../bindings";
import { formatDateTime } from "../../lib/format";
import { ONLINE_TEAM, renderInSession, testSession } from "../../test/session";
import { AuditScreen } from "./AuditScreen";

const trailState = vi.mocked(commands.trailState);
const checkpointAudit = vi.mocked(commands.checkpointAudit);
const exportAuditTrail = vi.mocked(commands.exportAuditTrail);
const verifyAudit = vi.mocked(commands.verifyAudit);
const saveAuditEvents = vi.mocked(commands.saveAuditEvents);

const ROOT = "3f2a 9c1b 0a2e 11fd 8c3b 77e0 41aa 9d02";
const INTACT: VerifyReport_Serialize = { events: 12, ok: true, first_bad: null, problem: null };

function state(over: Partial<TrailState_Serialize> = {}): TrailState_Serialize {
  return { anchor: null, checkpoint: null, archive: null, first: 1, last: 12, root: ROOT, ...over };
}

const ok = <T,>(data: T) => Promise.resolve({ status: "ok" as const, data });
const refused = (code: string, message: string) =>
  Promise.resolve({ status: "error" as const, error: { code, message } });

async function renderAudit(trail: TrailState_Serialize) {
  trailState.mockImplementation(() => ok(trail));
  await act(async () => {
    renderInSession(<AuditScreen />);
  });
  await waitFor(() => expect(screen.queryByRole("list", { name: "Chain state" })).toBeTruthy());
}

/** A mark's time as the screen shows it (local time, so the test holds in any zone). */
const at = (time: string) => formatDateTime(Date.parse(time));
const facts = () => screen.getByRole("list", { name: "Chain state" }).textContent ?? "";

beforeEach(() => {
  vi.mocked(commands.auditEvents).mockReset().mockImplementation(() => ok([]));
  vi.mocked(commands.listMembers).mockReset().mockImplementation(() => ok([]));
  verifyAudit.mockReset().mockImplementation(() => ok(INTACT));
  trailState.mockReset();
  checkpointAudit.mockReset();
  exportAuditTrail.mockReset();
  saveAuditEvents.mockReset();
  vi.mocked(commands.teamAudit).mockReset();
});

describe("Audit: the chain's state", () => {
  it("says when this device holds no anchor and no checkpoint was signed", async () => {
    await renderAudit(state());
    expect(facts()).toContain("Not yet anchored on this device");
    expect(facts()).toContain("No checkpoint yet");
    expect(facts()).not.toContain("archived");
    expect(screen.getByLabelText("Root key fingerprint").textContent).toBe(ROOT);
    expect(facts()).toContain(`Root key ${ROOT}, as coffer audit verify --file prints it`);
  });

  it("reads the state after verifying, which moves this device's anchor", async () => {
    await renderAudit(state({ anchor: 12 }));
    expect(verifyAudit).toHaveBeenCalled();
    expect(verifyAudit.mock.invocationCallOrder[0]!).toBeLessThan(trailState.mock.invocationCallOrder[0]!);
  });

  it("names the anchor, the newest checkpoint and the archive with what the vault keeps", async () => {
    await renderAudit(
      state({
        anchor: 312,
        checkpoint: { id: 310, actor: "carol", time: "2026-12-01T12:00:00Z", events: 309, from: null, file: null },
        archive: {
          id: 250,
          actor: "alice",
          time: "2026-11-30T12:00:00Z",
          events: 200,
          from: 101,
          file: "coffer-audit-archive-until-2025-11-30.jsonl",
        },
        first: 201,
        last: 312,
      }),
    );
    expect(facts()).toContain("This device last saw event 312");
    expect(facts()).toContain(`Checkpoint #310 by carol, ${at("2026-12-01T12:00:00Z")}, covering events up to 309`);
    expect(facts()).toContain(
      `Events 101–200 archived to coffer-audit-archive-until-2025-11-30.jsonl by alice on ${at("2026-11-30T12:00:00Z")}; the vault keeps events 201–312`,
    );
  });

  it("still says events were archived when the archive mark belongs to another workspace", async () => {
    await renderAudit(state({ first: 41, last: 90 }));
    expect(facts()).toContain("Events 1–40 archived; the vault keeps events 41–90");
    expect(facts()).toContain("No checkpoint since the archive");
  });

  it("counts one kept event as one", async () => {
    await renderAudit(state({ first: 27, last: 27 }));
    expect(facts()).toContain("Events 1–26 archived; the vault keeps event 27");
  });

  it("shows why the state could not be read", async () => {
    trailState.mockImplementation(() => refused("denied", "alice may not audit"));
    await act(async () => {
      renderInSession(<AuditScreen />);
    });
    await waitFor(() => expect(screen.getByText(/Could not read the chain's state: Alice may not audit\./)).toBeTruthy());
  });
});

describe("Audit: sign a checkpoint", () => {
  it("signs, verifies again and shows the new checkpoint", async () => {
    await renderAudit(state({ anchor: 12 }));
    checkpointAudit.mockImplementation(() => ok({ report: INTACT, event: 13 }));
    trailState.mockImplementation(() =>
      ok(state({ anchor: 13, last: 13, checkpoint: { id: 13, actor: "alice", time: "2026-12-02T12:00:00Z", events: 12, from: null, file: null } })),
    );
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Sign checkpoint" }));
    });
    expect(checkpointAudit).toHaveBeenCalledWith("default");
    await waitFor(() =>
      expect(facts()).toContain(`Checkpoint #13 by alice, ${at("2026-12-02T12:00:00Z")}, covering events up to 12`),
    );
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows a refusal where the card's other news goes", async () => {
    await renderAudit(state());
    checkpointAudit.mockImplementation(() => refused("denied", "bob may not audit in default"));
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Sign checkpoint" }));
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Could not sign a checkpoint");
    expect(alert.textContent).toContain("Bob may not audit in default.");
    expect(facts()).toContain("No checkpoint yet");
  });

  it("signs nothing over a broken chain, and says where it breaks", async () => {
    await renderAudit(state());
    checkpointAudit.mockImplementation(() =>
      ok({ report: { events: 12, ok: false, first_bad: 7, problem: "signature does not verify" }, event: null }),
    );
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Sign checkpoint" }));
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("No checkpoint signed");
    expect(alert.textContent).toContain("The chain is broken at event 7: signature does not verify.");
  });

  it("offers no checkpoint or export to a member who may not audit", async () => {
    trailState.mockImplementation(() => ok(state()));
    await act(async () => {
      renderInSession(<AuditScreen />, testSession({ access: { role: "viewer", capabilities: ["list"] } }));
    });
    expect(screen.queryByRole("button", { name: "Sign checkpoint" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Export verifiable trail" })).toBeNull();
    expect(screen.getByRole("button", { name: "Verify chain" })).toBeTruthy();
  });
});

describe("Audit: export a verifiable trail", () => {
  it("says where the file went and how to check it offline", async () => {
    await renderAudit(state());
    exportAuditTrail.mockImplementation(() =>
      ok({
        path: "/home/alice/Downloads/coffer-audit-2026-12-02 (2).jsonl",
        copy: { events: 12, first: 1, last: 12, head: "ab".repeat(32), root: ROOT },
      }),
    );
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Export verifiable trail" }));
    });
    const dialog = await screen.findByRole("dialog", { name: "Verifiable trail exported" });
    expect(dialog.textContent).toContain("12 events (1 to 12)");
    expect(within(dialog).getByLabelText("Exported file").textContent).toBe(
      "/home/alice/Downloads/coffer-audit-2026-12-02 (2).jsonl",
    );
    expect(within(dialog).getByLabelText("Verify command").textContent).toBe(
      "coffer audit verify --file '/home/alice/Downloads/coffer-audit-2026-12-02 (2).jsonl'",
    );
    expect(dialog.textContent).toContain(`It should report root key ${ROOT}`);
    fireEvent.click(within(dialog).getByRole("button", { name: "Done" }));
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("shows why an export failed", async () => {
    await renderAudit(state());
    exportAuditTrail.mockImplementation(() =>
      refused("denied", "alice may not export the whole audit trail: it holds events of workspaces they may not audit"),
    );
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Export verifiable trail" }));
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Could not export the trail");
    expect(alert.textContent).toContain("workspaces they may not audit");
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});

describe("Audit: Export → Save file", () => {
  it("asks the backend to write the listed events itself, with the screen's filter", async () => {
    vi.mocked(commands.auditEvents).mockImplementation(() =>
      ok([
        {
          id: 4,
          at_ms: 1,
          time: "2026-12-01T12:00:00Z",
          actor: "alice",
          action: "secret.reveal",
          capability: "reveal",
          outcome: "ok",
          workspace: "default",
          project: "default",
          environment: "production",
          secret: "STRIPE_KEY",
          detail: {},
        },
      ]),
    );
    saveAuditEvents.mockImplementation(() => ok({ path: "/home/a/Downloads/coffer-audit-default-2026-12-01.csv", events: 1 }));
    await renderAudit(state());
    await act(async () => {
      fireEvent.change(screen.getByLabelText("Action"), { target: { value: "secret.reveal" } });
      await new Promise((r) => setTimeout(r, 300));
    });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: /Export CSV/ }));
    });
    const dialog = await screen.findByRole("dialog");
    await act(async () => {
      fireEvent.click(within(dialog).getByRole("button", { name: "Save file" }));
    });
    expect(saveAuditEvents).toHaveBeenCalledWith(
      testSession().workspace,
      { actor: null, action: "secret.reveal", secret: null, since: null },
      "csv",
    );
    // No text from the page crosses: only the workspace, the filter and the format.
    for (const arg of saveAuditEvents.mock.calls[0]!) expect(JSON.stringify(arg)).not.toContain("STRIPE_KEY");
    expect(await screen.findByText(/Saved 1 event to .*coffer-audit-default/)).toBeTruthy();
  });
});

describe("Audit: the whole team's trail", () => {
  const event = (actor: string, secret: string, seq: number) => ({
    id: 1,
    at_ms: Date.parse("2026-12-02T12:00:00Z") + seq,
    time: "2026-12-02T12:00:00Z",
    actor,
    action: "secret.create",
    capability: "write",
    outcome: "ok",
    workspace: "default",
    project: "default",
    environment: "development",
    secret,
    detail: {},
    seq,
    n: 1,
  });

  it("offers no team view on a vault that is not on a team server", async () => {
    await renderAudit(state());
    expect(screen.queryByRole("tab", { name: "Whole team" })).toBeNull();
  });

  it("lists every member's events read from the server, with what was checked", async () => {
    vi.mocked(commands.teamAudit).mockImplementation(() =>
      ok({
        server: "postgres://db.example:5432/coffer",
        events: [event("dana", "DANA_KEY", 4), event("alice", "API_KEY", 5)],
        checked: 9,
        authors: 2,
        vault_wide: false,
      }),
    );
    trailState.mockImplementation(() => ok(state()));
    await act(async () => {
      renderInSession(<AuditScreen />, testSession({ team: ONLINE_TEAM }));
    });
    await act(async () => {
      fireEvent.click(screen.getByRole("tab", { name: "Whole team" }));
    });
    await waitFor(() => expect(screen.getByLabelText("Team trail status").textContent).toContain("9 events of 2 members"));
    expect(commands.teamAudit).toHaveBeenCalledWith("default", { actor: null, action: null, secret: null, since: null });
    const table = screen.getByRole("table", { name: "Audit events" });
    // Both events have the same local id (each machine numbers its own): both are rows.
    // (jsdom lays nothing out, so the virtual table says how many rows it has.)
    expect(table.getAttribute("aria-rowcount")).toBe("3");
    expect(screen.getByLabelText("Team trail facts").textContent).toContain("postgres://db.example:5432/coffer");
    // The exports write this machine's trail: not offered over the team's.
    expect(screen.queryByRole("button", { name: "Export CSV" })).toBeNull();
    await act(async () => {
      fireEvent.click(screen.getByRole("tab", { name: "This machine" }));
    });
    expect(screen.getByRole("button", { name: "Export CSV" })).toBeTruthy();
  });

  it("names what does not verify on the server", async () => {
    vi.mocked(commands.teamAudit).mockImplementation(() =>
      refused("integrity", "the team's audit trail on postgres://db does not verify: event 5.1 of default was edited on the server"),
    );
    trailState.mockImplementation(() => ok(state()));
    await act(async () => {
      renderInSession(<AuditScreen />, testSession({ team: ONLINE_TEAM }));
    });
    await act(async () => {
      fireEvent.click(screen.getByRole("tab", { name: "Whole team" }));
    });
    await waitFor(() => expect(screen.getByLabelText("Team trail status").textContent).toContain("does not verify"));
    expect(screen.getByRole("alert").textContent).toContain("event 5.1 of default was edited on the server");
  });
});
