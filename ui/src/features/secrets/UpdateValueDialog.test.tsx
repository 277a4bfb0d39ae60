import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: { setSecret: vi.fn(), showSecret: vi.fn(), confirmPassphrase: vi.fn() },
}));

import { commands } from "../../bindings";
import type { Secret } from "../../lib/types";
import { secretWith } from "../../test/secrets";
import { renderInSession } from "../../test/session";
import { CONFLICT_MESSAGE, UpdateValueDialog } from "./UpdateValueDialog";

const setSecret = vi.mocked(commands.setSecret);
const showSecret = vi.mocked(commands.showSecret);

const secret: Secret = secretWith("STRIPE_KEY", { development: null, staging: 2, production: 5 });

function type(el: HTMLElement, value: string) {
  fireEvent.input(el, { target: { value } });
}

beforeEach(() => {
  setSecret.mockReset();
  showSecret.mockReset();
});

describe("Update value", () => {
  it("sends the version seen when the dialog opened and clears the field", async () => {
    setSecret.mockResolvedValue({ status: "ok", data: { name: "STRIPE_KEY", environment: "production", version: 6, created: false } });
    const onSaved = vi.fn();
    renderInSession(<UpdateValueDialog secret={secret} onClose={() => undefined} onSaved={onSaved} />);
    fireEvent.change(screen.getByLabelText("Environment"), { target: { value: "production" } });
    const field = screen.getByLabelText("New value") as HTMLInputElement;
    type(field, "sk_live_rotated");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Save new version" }));
    });
    expect(setSecret.mock.calls[0]![1]).toMatchObject({
      name: "STRIPE_KEY",
      environment: "production",
      value: "sk_live_rotated",
      ifVersion: 5,
    });
    expect(field.value).toBe("");
    expect(onSaved).toHaveBeenCalledWith("production", 6);
  });

  it("explains a conflict when someone changed the secret meanwhile", async () => {
    setSecret.mockResolvedValue({
      status: "error",
      error: {
        code: "conflict",
        message: "version mismatch: STRIPE_KEY in staging is at version 3, not 2; someone changed it since you looked",
      },
    });
    const onClose = vi.fn();
    renderInSession(<UpdateValueDialog secret={secret} onClose={onClose} onSaved={() => undefined} />);
    const field = screen.getByLabelText("New value") as HTMLInputElement;
    type(field, "sk_live_mine");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Save new version" }));
    });
    expect(setSecret.mock.calls[0]![1]).toMatchObject({ environment: "staging", ifVersion: 2 });
    expect(screen.getByText(`${CONFLICT_MESSAGE}.`)).toBeTruthy();
    expect(screen.getByText(/Nothing was saved: staging is no longer at version 2/)).toBeTruthy();
    expect(field.value).toBe("");
    expect(onClose).not.toHaveBeenCalled();
    expect(document.body.innerHTML).not.toContain("sk_live_mine");
  });

  function withHosts(hosts: string[]) {
    showSecret.mockResolvedValue({ status: "ok", data: { ...secret, allowed_hosts: hosts, versions: [] } } as never);
    setSecret.mockResolvedValue({ status: "ok", data: { name: "STRIPE_KEY", environment: "staging", version: 3, created: false } });
  }

  async function save() {
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Save new version" }));
    });
  }

  it("shows the allowed hosts and keeps them when they are not edited", async () => {
    withHosts(["api.stripe.com"]);
    renderInSession(<UpdateValueDialog secret={secret} onClose={() => undefined} onSaved={() => undefined} />);
    const hosts = screen.getByLabelText("Allowed hosts") as HTMLInputElement;
    await waitFor(() => expect(hosts.value).toBe("api.stripe.com"));
    type(screen.getByLabelText("New value"), "sk_live_a");
    await save();
    expect(setSecret.mock.calls[0]![1]).toMatchObject({ allowedHosts: null });
  });

  it("sends the allowed hosts when they are edited", async () => {
    withHosts(["api.stripe.com"]);
    renderInSession(<UpdateValueDialog secret={secret} onClose={() => undefined} onSaved={() => undefined} />);
    const hosts = screen.getByLabelText("Allowed hosts") as HTMLInputElement;
    await waitFor(() => expect(hosts.value).toBe("api.stripe.com"));
    fireEvent.change(hosts, { target: { value: "api.stripe.com, 127.0.0.1" } });
    type(screen.getByLabelText("New value"), "sk_live_b");
    await save();
    expect(setSecret.mock.calls[0]![1]).toMatchObject({ allowedHosts: ["api.stripe.com", "127.0.0.1"] });
  });
});
