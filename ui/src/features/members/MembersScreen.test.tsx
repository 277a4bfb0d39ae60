import { act, fireEvent, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: {
    listMembers: vi.fn(),
    roleMatrix: vi.fn(),
  },
}));

import { commands } from "../../bindings";
import { ONLINE_TEAM, renderInSession, testSession } from "../../test/session";
import { MembersScreen } from "./MembersScreen";

const m = vi.mocked(commands);
const ok = <T,>(data: T) => Promise.resolve({ status: "ok" as const, data });


beforeEach(() => {
  m.listMembers.mockImplementation(() =>
    ok([{ name: "alice", role: "owner", project: null, capabilities: ["list", "manage"] }]),
  );
  m.roleMatrix.mockImplementation(() => Promise.resolve([]));
});

describe("Members", () => {
  it("adds a member with a first passphrase on a vault file", async () => {
    await act(async () => {
      renderInSession(<MembersScreen />);
    });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Add member" }));
    });
    expect(screen.getByRole("dialog")).toBeTruthy();
  });

  it("on a team server, invites from Settings → Team instead: members make their own keys", async () => {
    const navigate = vi.fn();
    await act(async () => {
      renderInSession(<MembersScreen />, testSession({ team: ONLINE_TEAM, navigate }));
    });
    expect(screen.queryByRole("button", { name: "Add member" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Invite member" }));
    expect(navigate).toHaveBeenCalledWith({ name: "settings", tab: "team" });
  });
});
