import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearCopiedSecretNow, copySecret, copyText, hasPendingClear } from "./clipboard";

let board = "";
const writeText = vi.fn(async (t: string) => {
  board = t;
});
const readText = vi.fn(async () => board);

beforeEach(() => {
  board = "";
  writeText.mockClear();
  readText.mockClear();
  Object.defineProperty(navigator, "clipboard", {
    configurable: true,
    value: { writeText, readText },
  });
  vi.useFakeTimers();
});

afterEach(async () => {
  await clearCopiedSecretNow();
  vi.useRealTimers();
});

describe("clipboard", () => {
  it("copies plain text without scheduling a clear", async () => {
    await copyText("coffer://default/STRIPE_KEY");
    expect(board).toBe("coffer://default/STRIPE_KEY");
    expect(hasPendingClear()).toBe(false);
  });

  it("clears a copied secret after 30 seconds", async () => {
    await copySecret("sk_live_123");
    expect(board).toBe("sk_live_123");
    await vi.advanceTimersByTimeAsync(29_000);
    expect(board).toBe("sk_live_123");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(board).toBe("");
    expect(hasPendingClear()).toBe(false);
  });

  it("leaves the clipboard alone when the user copied something else", async () => {
    await copySecret("sk_live_123");
    board = "some other text";
    await vi.advanceTimersByTimeAsync(30_000);
    expect(board).toBe("some other text");
  });

  it("clears anyway when the clipboard cannot be read", async () => {
    readText.mockRejectedValueOnce(new Error("not allowed"));
    await copySecret("sk_live_123");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(board).toBe("");
  });

  it("clears at once on lock", async () => {
    await copySecret("sk_live_123");
    await clearCopiedSecretNow();
    expect(board).toBe("");
    expect(hasPendingClear()).toBe(false);
  });

  it("restarts the timer when another secret is copied", async () => {
    await copySecret("first");
    await vi.advanceTimersByTimeAsync(20_000);
    await copySecret("second");
    await vi.advanceTimersByTimeAsync(20_000);
    expect(board).toBe("second");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(board).toBe("");
  });
});
