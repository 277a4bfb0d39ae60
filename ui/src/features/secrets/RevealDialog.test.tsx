import { act, fireEvent, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({ commands: { revealSecret: vi.fn(), copyValue: vi.fn() } }));

import { commands } from "../../bindings";
import { forgetCopiedSecret, hasPendingClear } from "../../lib/clipboard";
import type { Secret } from "../../lib/types";
import { secretWith } from "../../test/secrets";
import { renderInSession } from "../../test/session";
import { RevealDialog } from "./RevealDialog";

const revealSecret = vi.mocked(commands.revealSecret);
const copyValue = vi.mocked(commands.copyValue);

const secret: Secret = secretWith("STRIPE_KEY", { production: 2 });

beforeEach(() => {
  vi.useFakeTimers();
  revealSecret.mockReset();
});
afterEach(() => {
  forgetCopiedSecret();
  vi.useRealTimers();
});

describe("Reveal", () => {
  it("needs a reason, shows the value for 10 s, then removes it from the page", async () => {
    revealSecret.mockResolvedValue({ status: "ok", data: { value: "sk_live_shown_briefly" } });
    renderInSession(<RevealDialog secret={secret} onClose={() => undefined} />);

    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Reveal value" }));
    });
    expect(revealSecret).not.toHaveBeenCalled();
    expect(screen.getByText(/Say why you need to see it/)).toBeTruthy();

    fireEvent.change(screen.getByLabelText("Reason"), { target: { value: "configure dashboard" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Reveal value" }));
    });
    expect(revealSecret).toHaveBeenCalledWith(
      { workspace: "default", project: "default" },
      "STRIPE_KEY",
      "production",
      "configure dashboard",
    );
    expect(screen.getByLabelText("Revealed value").textContent).toBe("sk_live_shown_briefly");
    expect(screen.getByText("Hides in 10 s")).toBeTruthy();

    act(() => vi.advanceTimersByTime(5_000));
    expect(screen.getByText("Hides in 5 s")).toBeTruthy();
    expect(document.body.innerHTML).toContain("sk_live_shown_briefly");

    act(() => vi.advanceTimersByTime(5_000));
    expect(document.body.innerHTML).not.toContain("sk_live_shown_briefly");
    expect(screen.getByLabelText("Value hidden")).toBeTruthy();
  });

  it("hides at once on request", async () => {
    revealSecret.mockResolvedValue({ status: "ok", data: { value: "sk_live_hide_me" } });
    renderInSession(<RevealDialog secret={secret} onClose={() => undefined} />);
    fireEvent.change(screen.getByLabelText("Reason"), { target: { value: "check" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Reveal value" }));
    });
    fireEvent.click(screen.getByRole("button", { name: "Hide now" }));
    expect(document.body.innerHTML).not.toContain("sk_live_hide_me");
  });

  it("copies through the backend, which clears the clipboard; the webview writes nothing", async () => {
    revealSecret.mockResolvedValue({ status: "ok", data: { value: "sk_live_copy_me" } });
    copyValue.mockResolvedValue({ status: "ok", data: { clearAfterMs: 30_000 } });
    const writeText = vi.fn();
    Object.defineProperty(navigator, "clipboard", { configurable: true, value: { writeText, readText: vi.fn() } });
    renderInSession(<RevealDialog secret={secret} onClose={() => undefined} />);
    fireEvent.change(screen.getByLabelText("Reason"), { target: { value: "check" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Reveal value" }));
    });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Copy value" }));
    });
    expect(copyValue).toHaveBeenCalledWith("sk_live_copy_me");
    expect(writeText).not.toHaveBeenCalled();
    expect(hasPendingClear()).toBe(true);
    expect(screen.getByText("Copied. The clipboard clears in 30 s.")).toBeTruthy();
  });

  it("says why a copy failed when no clipboard is available", async () => {
    revealSecret.mockResolvedValue({ status: "ok", data: { value: "sk_live_no_board" } });
    copyValue.mockResolvedValue({
      status: "error",
      error: { code: "unavailable", message: "no system clipboard is available here (is a display running?)" },
    });
    renderInSession(<RevealDialog secret={secret} onClose={() => undefined} />);
    fireEvent.change(screen.getByLabelText("Reason"), { target: { value: "check" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Reveal value" }));
    });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Copy value" }));
    });
    expect(screen.getByText(/Could not copy: No system clipboard is available here/)).toBeTruthy();
    expect(hasPendingClear()).toBe(false);
  });
});
