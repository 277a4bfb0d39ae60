import { renderHook, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({ commands: { autoLockLimit: vi.fn() } }));

import { commands } from "../../bindings";
import { SHORTEST_AUTO_LOCK_MS, useAutoLockLimit } from "./autoLockLimit";

const autoLockLimit = vi.mocked(commands.autoLockLimit);

beforeEach(() => {
  autoLockLimit.mockReset();
});

describe("the screen's auto-lock limit", () => {
  it("is the backend's (the shortest over the member's workspaces)", async () => {
    autoLockLimit.mockResolvedValue({ status: "ok", data: 2 * 60_000 });
    const { result } = renderHook(() => useAutoLockLimit(1));
    await waitFor(() => expect(result.current).toBe(2 * 60_000));
  });

  it("falls back to the shortest allowed, not 15 minutes, when it cannot be read", async () => {
    autoLockLimit.mockResolvedValue({ status: "error", error: { code: "integrity", message: "setting auto-lock" } });
    const { result } = renderHook(() => useAutoLockLimit(1));
    await waitFor(() => expect(autoLockLimit).toHaveBeenCalled());
    await new Promise((r) => setTimeout(r, 0));
    expect(result.current).toBe(SHORTEST_AUTO_LOCK_MS);
    expect(SHORTEST_AUTO_LOCK_MS).toBe(60_000);
  });
});
