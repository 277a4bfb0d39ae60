import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: { teamJoinStart: vi.fn(), teamJoinFinish: vi.fn(), unlock: vi.fn() },
}));

import { commands } from "../../bindings";
import { JOIN_POLL_MS, JoinTeam } from "./JoinTeam";

const m = vi.mocked(commands);
const ok = <T,>(data: T) => Promise.resolve({ status: "ok" as const, data });
const fail = (code: string, message: string) => Promise.resolve({ status: "error" as const, error: { code, message } });
const PASS = "bob keeps his own lamp 3";
const FP = "3fa2-91c0-7d4e-b815-0a6c";
const unlocked = {
  member: "bob",
  keyring_note: null,
  change: 1,
  must_change_passphrase: false,
  one_time_passphrases: [],
  trail_warning: null,
};

function type(label: string, value: string) {
  const input = screen.getByLabelText(label) as HTMLInputElement;
  if (input.type === "password") input.value = value;
  else fireEvent.change(input, { target: { value } });
  fireEvent.input(input);
}

describe("JoinTeam", () => {
  beforeEach(() => {
    vi.resetAllMocks();
    vi.useFakeTimers({ shouldAdvanceTime: true });
  });
  afterEach(() => vi.useRealTimers());

  it("asks to join with the code, shows the fingerprint, and goes on once the owner admits", async () => {
    const onJoined = vi.fn();
    render(<JoinTeam path="/tmp/vault.db" resume={false} onJoined={onJoined} />);
    m.teamJoinStart.mockImplementation(() =>
      ok({ joined: false, name: "bob", fingerprint: FP, server: "postgres://db.example/coffer", role: "developer" }),
    );
    type("Invitation code", "  coffer-invite:abc  ");
    type("Choose a passphrase", PASS);
    type("Repeat the passphrase", PASS);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Ask to join" }));
    });
    expect(m.teamJoinStart).toHaveBeenCalledWith("coffer-invite:abc", PASS);
    expect(screen.getByRole("group", { name: "Your fingerprint" }).textContent).toContain(FP);
    // Not admitted yet: still waiting; then admitted: unlocked as the member named.
    m.teamJoinFinish.mockImplementation(() => ok({ joined: false, name: "bob", fingerprint: FP, server: "", role: "" }));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(JOIN_POLL_MS);
    });
    expect(onJoined).not.toHaveBeenCalled();
    m.teamJoinFinish.mockImplementation(() => ok({ joined: true, name: "bob", fingerprint: "", server: "s", role: "" }));
    m.unlock.mockImplementation(() => ok(unlocked));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(JOIN_POLL_MS);
    });
    expect(m.teamJoinFinish).toHaveBeenCalledWith(PASS);
    expect(m.unlock).toHaveBeenCalledWith("bob", PASS, false);
    expect(onJoined).toHaveBeenCalledWith(unlocked);
    // The passphrase never reached the page.
    expect(document.body.innerHTML).not.toContain(PASS);
  });

  it("says why a code is refused and keeps what was typed", async () => {
    render(<JoinTeam path="/tmp/vault.db" resume={false} onJoined={vi.fn()} />);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Ask to join" }));
    });
    expect(screen.getByRole("alert").textContent).toContain("Paste the invitation code");
    m.teamJoinStart.mockImplementation(() =>
      fail("auth", "the team server refused this invitation: it expired, was cancelled or was used"),
    );
    type("Invitation code", "coffer-invite:old");
    type("Choose a passphrase", PASS);
    type("Repeat the passphrase", PASS);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Ask to join" }));
    });
    expect(screen.getByRole("alert").textContent).toContain("expired, was cancelled or was used");
    expect((screen.getByLabelText("Invitation code") as HTMLInputElement).value).toBe("coffer-invite:old");
  });

  it("stops asking on a failure that waiting cannot mend, and keeps asking through an outage", async () => {
    render(<JoinTeam path="/tmp/vault.db" resume={false} onJoined={vi.fn()} />);
    m.teamJoinStart.mockImplementation(() =>
      ok({ joined: false, name: "bob", fingerprint: FP, server: "s", role: "developer" }),
    );
    type("Invitation code", "coffer-invite:abc");
    type("Choose a passphrase", PASS);
    type("Repeat the passphrase", PASS);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Ask to join" }));
    });
    m.teamJoinFinish.mockImplementation(() => fail("internal", "team server at s is unreachable: no answer in 3 s"));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(JOIN_POLL_MS);
    });
    expect(screen.getByRole("alert").textContent).toContain("unreachable");
    m.teamJoinFinish.mockImplementation(() => fail("integrity", "the team server's records do not hang together"));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(JOIN_POLL_MS);
    });
    expect(m.teamJoinFinish).toHaveBeenCalledTimes(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(JOIN_POLL_MS * 3);
    });
    expect(m.teamJoinFinish).toHaveBeenCalledTimes(2);
    expect(screen.getByRole("alert").textContent).toContain("do not hang together");
  });

  it("carries on a join started earlier with the passphrase chosen then", async () => {
    const onJoined = vi.fn();
    render(<JoinTeam path="/tmp/vault.db" resume onJoined={onJoined} />);
    expect(screen.queryByLabelText("Invitation code")).toBeNull();
    m.teamJoinFinish.mockImplementation(() => ok({ joined: false, name: "bob", fingerprint: FP, server: "", role: "" }));
    type("Your passphrase", PASS);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Carry on" }));
    });
    expect(screen.getByRole("group", { name: "Your fingerprint" }).textContent).toContain(FP);
    m.teamJoinFinish.mockImplementation(() => ok({ joined: true, name: "bob", fingerprint: "", server: "s", role: "" }));
    m.unlock.mockImplementation(() => ok(unlocked));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(JOIN_POLL_MS);
    });
    expect(onJoined).toHaveBeenCalledWith(unlocked);
  });
});
