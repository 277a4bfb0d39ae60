import { act, fireEvent, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: {
    updateStatus: vi.fn(),
    setUpdatePreferences: vi.fn(),
    checkForUpdates: vi.fn(),
    installUpdate: vi.fn(),
    restartApp: vi.fn(),
  },
}));

// A channel without a webview: the test plays the backend's progress messages.
vi.mock("@tauri-apps/api/core", () => ({
  Channel: class<T> {
    onmessage: (message: T) => void = () => undefined;
  },
}));

import type { DownloadProgress_Deserialize, UpdateStatus_Serialize } from "../../bindings";
import { commands } from "../../bindings";
import { renderInSession } from "../../test/session";
import { formatBytes } from "../../lib/format";
import { UpdatesSection } from "./UpdatesSection";

const updateStatus = vi.mocked(commands.updateStatus);
const setUpdatePreferences = vi.mocked(commands.setUpdatePreferences);
const checkForUpdates = vi.mocked(commands.checkForUpdates);
const installUpdate = vi.mocked(commands.installUpdate);
const restartApp = vi.mocked(commands.restartApp);

const DEFAULT_ENDPOINT = "https://example.invalid/coffer/releases/latest.json";

function status(over: Partial<UpdateStatus_Serialize> = {}): UpdateStatus_Serialize {
  return {
    current_version: "0.1.0",
    endpoint: DEFAULT_ENDPOINT,
    default_endpoint: DEFAULT_ENDPOINT,
    check_at_start: true,
    checking: false,
    last_check: null,
    ...over,
  };
}

const offer = { version: "0.2.0", current_version: "0.1.0", notes: "Faster unlock.", date: null };

function statusText(): string {
  return screen.getByRole("status", { name: "Update status" }).textContent ?? "";
}

function statusTone(): string {
  return screen.getByRole("status", { name: "Update status" }).className;
}

async function render(initial = status()) {
  updateStatus.mockResolvedValue(initial);
  await act(async () => {
    renderInSession(<UpdatesSection />);
  });
}

async function click(name: string) {
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name }));
  });
}

beforeEach(() => {
  for (const m of [updateStatus, setUpdatePreferences, checkForUpdates, installUpdate, restartApp]) m.mockReset();
});

describe("Updates", () => {
  it("labels every control", async () => {
    await render();
    expect(screen.getByLabelText("Update endpoint")).toBeTruthy();
    expect(screen.getByLabelText("Check for updates at start")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Check for updates" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Save update endpoint" })).toBeTruthy();
    expect(statusText()).toBe("Not checked yet.");
  });

  it("says in one line that it could not check, and offers nothing", async () => {
    await render();
    checkForUpdates.mockResolvedValue({
      status: "error",
      error: { code: "unavailable", message: "could not check for updates: example.invalid could not be reached" },
    });
    await click("Check for updates");
    expect(statusText()).toBe("Could not check for updates: example.invalid could not be reached.");
    expect(statusTone()).toContain("update-status-muted"); // offline is no alarm
    expect(screen.queryByRole("button", { name: "Download and install" })).toBeNull();
    expect(screen.queryByRole("progressbar")).toBeNull();
  });

  it("says when Coffer is up to date", async () => {
    await render();
    checkForUpdates.mockResolvedValue({ status: "ok", data: null });
    await click("Check for updates");
    expect(statusText()).toBe("Coffer is up to date. Checked just now.");
  });

  it("shows the outcome of the check made at start", async () => {
    await render(
      status({
        last_check: {
          at_ms: Date.now(),
          available: null,
          error: { code: "integrity", message: "the update was refused: it is signed with a key this app does not trust" },
        },
      }),
    );
    expect(statusText()).toBe("The update was refused: it is signed with a key this app does not trust.");
    expect(statusTone()).toContain("update-status-danger");
  });

  it("downloads with a progress bar, installs, then restarts", async () => {
    await render();
    checkForUpdates.mockResolvedValue({ status: "ok", data: offer });
    await click("Check for updates");
    expect(statusText()).toBe("Coffer 0.2.0 is available (this is 0.1.0).");
    expect(screen.getByText("Faster unlock.")).toBeTruthy();

    let channel: { onmessage: (p: DownloadProgress_Deserialize) => void } | undefined;
    let finish: (v: { status: "ok"; data: string }) => void = () => undefined;
    installUpdate.mockImplementation((c) => {
      channel = c as unknown as typeof channel;
      return new Promise((resolve) => (finish = resolve));
    });
    await click("Download and install");
    expect(installUpdate).toHaveBeenCalledTimes(1);

    act(() => channel!.onmessage({ downloaded: 5 * 1024 * 1024, total: 10 * 1024 * 1024 }));
    const bar = screen.getByLabelText("Download progress") as HTMLProgressElement;
    expect(bar.value).toBe(5 * 1024 * 1024);
    expect(bar.max).toBe(10 * 1024 * 1024);
    expect(statusText()).toBe("Downloading… 5.0 MB of 10.0 MB");
    expect((screen.getByRole("button", { name: "Check for updates" }) as HTMLButtonElement).disabled).toBe(true);

    act(() => channel!.onmessage({ downloaded: 10 * 1024 * 1024, total: 10 * 1024 * 1024 }));
    expect(statusText()).toBe("Verifying the signature and installing…");

    await act(async () => finish({ status: "ok", data: "0.2.0" }));
    expect(statusText()).toBe("Coffer 0.2.0 is installed. Restart Coffer to use it.");
    expect(screen.queryByLabelText("Download progress")).toBeNull();
    restartApp.mockResolvedValue(undefined as never);
    await click("Restart Coffer");
    expect(restartApp).toHaveBeenCalledTimes(1);
  });

  it("reports a download that fails verification, and keeps the offer", async () => {
    await render();
    checkForUpdates.mockResolvedValue({ status: "ok", data: offer });
    await click("Check for updates");
    installUpdate.mockResolvedValue({
      status: "error",
      error: { code: "integrity", message: "the update was refused: its signature does not verify (Invalid signature)" },
    });
    await click("Download and install");
    expect(statusText()).toBe("The update was refused: its signature does not verify (Invalid signature).");
    expect(screen.getByRole("button", { name: "Download and install" })).toBeTruthy();
  });

  it("saves an endpoint, shows a refusal inline, and resets to the default", async () => {
    await render();
    const input = screen.getByLabelText("Update endpoint") as HTMLInputElement;
    expect(input.value).toBe(DEFAULT_ENDPOINT);

    setUpdatePreferences.mockResolvedValueOnce({
      status: "error",
      error: { code: "invalid", message: "the update endpoint must use https" },
    });
    fireEvent.change(input, { target: { value: "http://updates.example.org/latest.json" } });
    await click("Save update endpoint");
    expect(setUpdatePreferences).toHaveBeenLastCalledWith("http://updates.example.org/latest.json", true);
    expect(screen.getByRole("alert").textContent).toBe("The update endpoint must use https.");

    const mine = "https://updates.example.org/latest.json";
    setUpdatePreferences.mockResolvedValueOnce({ status: "ok", data: status({ endpoint: mine }) });
    updateStatus.mockResolvedValue(status({ endpoint: mine }));
    fireEvent.change(input, { target: { value: mine } });
    await click("Save update endpoint");
    expect(input.value).toBe(mine);
    expect(screen.queryByRole("alert")).toBeNull();

    setUpdatePreferences.mockResolvedValueOnce({ status: "ok", data: status() });
    updateStatus.mockResolvedValue(status());
    await click("Use the default update endpoint");
    expect(setUpdatePreferences).toHaveBeenLastCalledWith("", true);
    expect(input.value).toBe(DEFAULT_ENDPOINT);
  });

  it("turns the check at start off", async () => {
    await render();
    setUpdatePreferences.mockResolvedValue({ status: "ok", data: status({ check_at_start: false }) });
    updateStatus.mockResolvedValue(status({ check_at_start: false }));
    await act(async () => {
      fireEvent.click(screen.getByLabelText("Check for updates at start"));
    });
    expect(setUpdatePreferences).toHaveBeenCalledWith(DEFAULT_ENDPOINT, false);
    expect((screen.getByLabelText("Check for updates at start") as HTMLInputElement).checked).toBe(false);
    expect(statusText()).toBe("Not checked yet: checking at start is off.");
  });

  it("writes sizes people read", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(20 * 1024)).toBe("20 KB");
    expect(formatBytes(12.34 * 1024 * 1024)).toBe("12.3 MB");
  });
});
