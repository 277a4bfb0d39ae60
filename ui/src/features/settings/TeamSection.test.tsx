import { act, fireEvent, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: {
    teamSyncNow: vi.fn(),
    teamResolve: vi.fn(),
    teamVerify: vi.fn(),
    teamInvite: vi.fn(),
    teamInvitations: vi.fn(),
    teamAdmit: vi.fn(),
    teamCancelInvitation: vi.fn(),
  },
}));

import { commands } from "../../bindings";
import type { Invitation, TeamState } from "../../lib/types";
import { ONLINE_TEAM, renderInSession, testSession } from "../../test/session";
import { teamStatusText, TeamStatus } from "../shell/TeamStatus";
import { INVITATION_POLL_MS, TeamSection } from "./TeamSection";

const m = vi.mocked(commands);
const ok = <T,>(data: T) => Promise.resolve({ status: "ok" as const, data });
const fail = (code: string, message: string) => Promise.resolve({ status: "error" as const, error: { code, message } });

const ONLINE: TeamState = ONLINE_TEAM;

const JOINED: Invitation = {
  name: "bob",
  role: "developer",
  workspace: "default",
  expires_at: Date.now() + 86_400_000,
  expired: false,
  joined: true,
};

beforeEach(() => {
  for (const f of Object.values(m)) f.mockReset();
  m.teamInvitations.mockImplementation(() => ok([] as Invitation[]));
});

async function show(team: TeamState | null, over = {}) {
  await act(async () => {
    renderInSession(<TeamSection />, testSession({ team, ...over }));
  });
}

describe("Settings: team", () => {
  it("explains how to share a vault that is on no team server", async () => {
    await show({ ...ONLINE, on_team: false, server: null, online: false });
    const card = screen.getByRole("region", { name: "Team server" });
    expect(card.textContent).toContain("coffer team create");
    expect(screen.queryByRole("region", { name: "Invite a member" })).toBeNull();
  });

  it("shows the server, online or offline with why, and what waits to be pushed", async () => {
    await show({ ...ONLINE, online: false, problem: "team server at postgres://db.example:5432/coffer is unreachable", queued: 3 });
    const status = screen.getByRole("status", { name: "Team status" });
    expect(status.textContent).toContain("offline");
    expect(status.textContent).toContain("offline · 3 queued");
    expect(status.textContent).toContain("unreachable");
    expect(screen.getByText("3 changes, sent as soon as the server answers")).toBeTruthy();
    m.teamSyncNow.mockImplementation(() => ok(ONLINE));
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Sync now" }));
    });
    expect(m.teamSyncNow).toHaveBeenCalledTimes(1);
  });

  it("verifies the server and says plainly when it was changed outside Coffer", async () => {
    await show(ONLINE);
    m.teamVerify.mockImplementation(() => ok({ scopes: 2, records: 31, events: 12, own_events: 12, unchecked: [] }));
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Verify server" }));
    });
    expect(await screen.findByText(/31 records and 12 audit events checked/)).toBeTruthy();
    m.teamVerify.mockImplementation(() =>
      fail("integrity", "the team server does not hold what this machine exchanged with it: secret record 7 was deleted on the server"),
    );
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Verify server" }));
    });
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("changed outside Coffer");
    expect(alert.textContent).toContain("was deleted on the server");
  });

  it("offers to verify while offline too: a server this vault refuses shows as offline", async () => {
    await show({ ...ONLINE, online: false, problem: "integrity check failed: the team server went back" });
    expect((screen.getByRole("button", { name: "Verify server" }) as HTMLButtonElement).disabled).toBe(false);
  });

  it("settles conflicts by keeping one side, all of them at once", async () => {
    await show({ ...ONLINE, conflicts: 2 });
    const group = screen.getByRole("group", { name: "Conflicts" });
    expect(group.textContent).toContain("2 records were changed here and on the server");
    m.teamResolve.mockImplementation(() => ok(2));
    await act(async () => {
      fireEvent.click(within(group).getByRole("button", { name: "Keep the server's" }));
    });
    expect(m.teamResolve).toHaveBeenCalledWith("theirs");
  });

  it("makes an invitation and shows its code once, with a copy button", async () => {
    await show(ONLINE);
    m.teamInvite.mockImplementation(() =>
      ok({ name: "bob", role: "admin", workspace: "default", expires_at: Date.now() + 3_600_000, code: "coffer-invite:abc" }),
    );
    fireEvent.change(screen.getByRole("textbox", { name: "Member name" }), { target: { value: " bob " } });
    fireEvent.change(screen.getByRole("combobox", { name: "Role" }), { target: { value: "admin" } });
    fireEvent.change(screen.getByRole("combobox", { name: "Code works for" }), { target: { value: "1" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Create invitation" }));
    });
    expect(m.teamInvite).toHaveBeenCalledWith({ workspace: "default", name: "bob", role: "admin", validHours: 1 });
    const code = screen.getByRole("group", { name: "Invitation code" });
    expect((within(code).getByRole("textbox", { name: "Code" }) as HTMLTextAreaElement).value).toBe("coffer-invite:abc");
    expect(within(code).getByRole("button", { name: "Copy code" })).toBeTruthy();
    await act(async () => {
      fireEvent.click(within(code).getByRole("button", { name: "Done" }));
    });
    expect(screen.queryByRole("group", { name: "Invitation code" })).toBeNull();
  });

  it("admits a member only with the fingerprint typed from their screen, and says why not", async () => {
    m.teamInvitations.mockImplementation(() => ok([JOINED]));
    await show(ONLINE);
    const row = screen.getByRole("listitem", { name: "Invitation for bob" });
    expect(row.textContent).toContain("joined: compare the fingerprint");
    const admit = within(row).getByRole("button", { name: "Admit" }) as HTMLButtonElement;
    expect(admit.disabled).toBe(true);
    fireEvent.change(within(row).getByRole("textbox", { name: "Fingerprint on bob's screen" }), {
      target: { value: "0000-1111" },
    });
    m.teamAdmit.mockImplementation(() => fail("denied", "the fingerprint given is not the one of the keys that joined as 'bob'"));
    await act(async () => {
      fireEvent.click(admit);
    });
    expect(m.teamAdmit).toHaveBeenCalledWith("bob", "0000-1111");
    expect(within(row).getByRole("alert").textContent).toContain("The fingerprint given is not the one");
  });

  it("notices by itself when someone invited joins, and stops asking once nobody waits", async () => {
    vi.useFakeTimers();
    try {
      let joined = false;
      m.teamInvitations.mockImplementation(() => ok([{ ...JOINED, joined }]));
      await show(ONLINE);
      const row = screen.getByRole("listitem", { name: "Invitation for bob" });
      expect(row.textContent).toContain("not joined yet");
      joined = true; // bob runs `coffer team join` on his machine
      await act(async () => {
        await vi.advanceTimersByTimeAsync(INVITATION_POLL_MS);
      });
      expect(row.textContent).toContain("joined: compare the fingerprint");
      const asked = m.teamInvitations.mock.calls.length;
      await act(async () => {
        await vi.advanceTimersByTimeAsync(5 * INVITATION_POLL_MS);
      });
      expect(m.teamInvitations.mock.calls.length).toBe(asked);
    } finally {
      vi.useRealTimers();
    }
  });

  it("asks nothing again while the server is offline, and says when the question failed", async () => {
    vi.useFakeTimers();
    try {
      m.teamInvitations.mockImplementation(() => ok([{ ...JOINED, joined: false }]));
      await show({ ...ONLINE, online: false });
      await act(async () => {
        await vi.advanceTimersByTimeAsync(5 * INVITATION_POLL_MS);
      });
      expect(m.teamInvitations).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
    m.teamInvitations.mockReset();
    m.teamInvitations.mockImplementation(() => fail("io", "the team server stopped answering"));
    vi.useFakeTimers();
    try {
      await show(ONLINE);
      expect(screen.getByText(/Could not read the open invitations/).textContent).toContain("stopped answering");
      await act(async () => {
        await vi.advanceTimersByTimeAsync(5 * INVITATION_POLL_MS);
      });
      expect(m.teamInvitations).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("offers no invitations to a member who may not manage", async () => {
    await show(ONLINE, { access: { role: "developer", capabilities: ["list", "use"] } });
    expect(screen.getByRole("region", { name: "Team server" })).toBeTruthy();
    expect(screen.queryByRole("region", { name: "Invite a member" })).toBeNull();
    expect(m.teamInvitations).not.toHaveBeenCalled();
  });
});

describe("the team status line", () => {
  it("says online or offline, what is queued and what conflicts, and opens Settings → Team", () => {
    expect(teamStatusText(ONLINE)).toBe("Online");
    expect(teamStatusText({ ...ONLINE, online: false, queued: 2, conflicts: 1 })).toBe("Offline · 2 queued · 1 conflict");
    const open = vi.fn();
    renderInSession(<TeamStatus team={{ ...ONLINE, queued: 1 }} onOpen={open} />);
    fireEvent.click(screen.getByRole("button", { name: "Team server: Online · 1 queued" }));
    expect(open).toHaveBeenCalled();
  });

  it("is not shown for a vault on no team server", () => {
    const { container } = renderInSession(<TeamStatus team={{ ...ONLINE, on_team: false }} onOpen={() => undefined} />);
    expect(container.querySelector(".team-status")).toBeNull();
  });
});
