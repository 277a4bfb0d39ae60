import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../bindings", () => ({ commands: { copyValue: vi.fn() } }));

import { commands } from "../bindings";
import { copySecret, copyText, forgetCopiedSecret, hasPendingClear, secondsUntilClear } from "./clipboard";

const copyValue = vi.mocked(commands.copyValue);
let board = "";
const writeText = vi.fn(async (t: string) => {
  board = t;
});

beforeEach(() => {
  board = "";
  writeText.mockClear();
  copyValue.mockReset();
  copyValue.mockResolvedValue({ status: "ok", data: { clearAfterMs: 30_000 } });
  Object.defineProperty(navigator, "clipboard", {
    configurable: true,
    value: { writeText, readText: vi.fn(async () => board) },
  });
  vi.useFakeTimers();
});

afterEach(() => {
  forgetCopiedSecret();
  vi.useRealTimers();
});

describe("clipboard", () => {
  it("copies a reference in the webview without scheduling a clear", async () => {
    await copyText("{{ secrets.STRIPE_KEY }}");
    expect(board).toBe("{{ secrets.STRIPE_KEY }}");
    expect(copyValue).not.toHaveBeenCalled();
    expect(hasPendingClear()).toBe(false);
  });

  it("hands a secret value to the backend, never to the webview's clipboard", async () => {
    expect(await copySecret("sk_live_123")).toBe(30_000);
    expect(copyValue).toHaveBeenCalledWith("sk_live_123");
    expect(writeText).not.toHaveBeenCalled();
    expect(board).toBe("");
  });

  it("counts down to the backend's clear and then forgets it", async () => {
    await copySecret("sk_live_123");
    expect(secondsUntilClear()).toBe(30);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(secondsUntilClear()).toBe(10);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(hasPendingClear()).toBe(false);
    expect(secondsUntilClear()).toBeNull();
  });

  it("restarts the countdown when another secret is copied", async () => {
    await copySecret("first");
    await vi.advanceTimersByTimeAsync(20_000);
    await copySecret("second");
    await vi.advanceTimersByTimeAsync(20_000);
    expect(hasPendingClear()).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(hasPendingClear()).toBe(false);
  });

  it("forgets the countdown on lock (the backend clears)", async () => {
    await copySecret("sk_live_123");
    forgetCopiedSecret();
    expect(hasPendingClear()).toBe(false);
  });

  it("fails with the backend's message and no countdown when there is no clipboard", async () => {
    copyValue.mockResolvedValue({
      status: "error",
      error: { code: "unavailable", message: "no system clipboard is available here (is a display running?)" },
    });
    await expect(copySecret("sk_live_123")).rejects.toThrow(/no system clipboard/);
    expect(hasPendingClear()).toBe(false);
  });
});
