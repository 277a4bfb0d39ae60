import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: {
    setSecret: vi.fn(),
    confirmPassphrase: vi.fn(),
  },
}));

import { commands } from "../../bindings";
import { renderInSession, testSession } from "../../test/session";
import { AddSecretDialog } from "./AddSecretDialog";

const setSecret = vi.mocked(commands.setSecret);
const confirmPassphrase = vi.mocked(commands.confirmPassphrase);

function ok(environment: string) {
  return { status: "ok" as const, data: { name: "STRIPE_KEY", environment, version: 1, created: true } };
}

function open(existing: string[] = []) {
  const onSaved = vi.fn();
  const onClose = vi.fn();
  renderInSession(<AddSecretDialog existingNames={new Set(existing)} onClose={onClose} onSaved={onSaved} />);
  return { onSaved, onClose };
}

function valueField(env: string): HTMLInputElement {
  return screen.getByLabelText(`Value for ${env}`) as HTMLInputElement;
}

function type(el: HTMLElement, value: string) {
  fireEvent.input(el, { target: { value } });
  fireEvent.change(el, { target: { value } });
}

async function submit() {
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name: "Add secret" }));
  });
}

beforeEach(() => {
  setSecret.mockReset();
  confirmPassphrase.mockReset();
});

describe("Add secret", () => {
  it("calls setSecret once per filled environment and empties every value field", async () => {
    setSecret.mockImplementation(async (_scope, input) => ok(input.environment!));
    const { onSaved, onClose } = open();
    type(screen.getByLabelText("Name"), "STRIPE_KEY");
    type(screen.getByLabelText("Description"), "Stripe live key");
    type(valueField("staging"), "sk_test_51Hx");
    type(valueField("production"), "sk_live_51Hx");

    await submit();

    expect(setSecret).toHaveBeenCalledTimes(2);
    const calls = setSecret.mock.calls.map(([where, input]) => ({ where, ...input }));
    expect(calls[0]).toMatchObject({
      where: { workspace: "default", project: "default" },
      name: "STRIPE_KEY",
      environment: "staging",
      value: "sk_test_51Hx",
      description: "Stripe live key",
      kind: "string",
      scope: "workspace",
      ifVersion: 0,
    });
    expect(calls[1]).toMatchObject({ environment: "production", value: "sk_live_51Hx", ifVersion: 0 });
    expect(calls.some((c) => c.environment === "development")).toBe(false);
    expect(onSaved).toHaveBeenCalledWith("STRIPE_KEY", ["staging", "production"]);
    expect(onClose).toHaveBeenCalled();
    expect(valueField("staging").value).toBe("");
    expect(valueField("production").value).toBe("");
  });

  it("never writes a typed value into the page's HTML", () => {
    open();
    type(valueField("production"), "sk_live_never_in_dom");
    expect(valueField("production").value).toBe("sk_live_never_in_dom");
    expect(document.documentElement.outerHTML).not.toContain("sk_live_never_in_dom");
  });

  it("empties the value fields even when the backend refuses", async () => {
    setSecret.mockResolvedValue({ status: "error", error: { code: "invalid", message: "a json value must parse" } });
    const { onSaved, onClose } = open();
    type(screen.getByLabelText("Name"), "STRIPE_KEY");
    type(valueField("production"), "sk_live_51Hx");

    await submit();

    expect(setSecret).toHaveBeenCalledTimes(1);
    expect(valueField("production").value).toBe("");
    expect(await screen.findByText("A json value must parse.")).toBeTruthy();
    expect(onSaved).not.toHaveBeenCalled();
    expect(onClose).not.toHaveBeenCalled();
  });

  it("says which environments were saved when a later one fails", async () => {
    setSecret
      .mockResolvedValueOnce(ok("staging"))
      .mockResolvedValueOnce({ status: "error", error: { code: "denied", message: "alice may not write" } });
    open();
    type(screen.getByLabelText("Name"), "STRIPE_KEY");
    type(valueField("staging"), "a-staging-value");
    type(valueField("production"), "a-production-value");
    await submit();
    expect(await screen.findByText(/Saved in staging, but not in production/)).toBeTruthy();
    expect(valueField("staging").value).toBe("");
    expect(valueField("production").value).toBe("");
  });

  it("asks the backend to generate a value when Generate is chosen", async () => {
    setSecret.mockImplementation(async (_s, input) => ok(input.environment!));
    open();
    type(screen.getByLabelText("Name"), "DB_PASSWORD");
    fireEvent.click(screen.getByRole("button", { name: "Generate a value for development" }));
    type(screen.getByLabelText("Length for development"), "48");
    await submit();
    expect(setSecret).toHaveBeenCalledTimes(1);
    expect(setSecret.mock.calls[0]![1]).toMatchObject({
      environment: "development",
      value: null,
      generateLength: 48,
      generateAlphabet: "alnum",
    });
  });

  it("refuses an existing name or no value at all without calling the backend", async () => {
    open(["STRIPE_KEY"]);
    type(screen.getByLabelText("Name"), "STRIPE_KEY");
    type(valueField("production"), "sk_live_51Hx");
    await submit();
    expect(screen.getByText(/already exists/)).toBeTruthy();
    // Nothing was sent, so the value is still there to fix the name and retry.
    expect(valueField("production").value).toBe("sk_live_51Hx");

    type(screen.getByLabelText("Name"), "OTHER_KEY");
    type(valueField("production"), "");
    await submit();
    expect(screen.getByText(/Give at least one environment a value/)).toBeTruthy();
    expect(setSecret).not.toHaveBeenCalled();
  });

  it("asks the passphrase again for a protected environment and retries", async () => {
    setSecret
      .mockResolvedValueOnce({
        status: "error",
        error: { code: "auth", message: "environment 'production' is protected: confirm your passphrase to change it" },
      })
      .mockResolvedValueOnce(ok("production"));
    confirmPassphrase.mockResolvedValue({ status: "ok", data: null });
    const session = testSession({ environments: [{ name: "production", protected: true }] });
    const onSaved = vi.fn();
    renderInSession(<AddSecretDialog existingNames={new Set()} onClose={() => undefined} onSaved={onSaved} />, session);
    type(screen.getByLabelText("Name"), "STRIPE_KEY");
    type(valueField("production"), "sk_live_51Hx");
    await submit();

    const pass = await screen.findByLabelText("Your passphrase");
    type(pass, "correct horse battery staple");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Confirm and continue" }));
    });
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith("STRIPE_KEY", ["production"]));
    expect(confirmPassphrase).toHaveBeenCalledWith("correct horse battery staple");
    expect(setSecret).toHaveBeenCalledTimes(2);
    expect(setSecret.mock.calls[1]![1]).toMatchObject({ environment: "production", value: "sk_live_51Hx" });
  });

  it("sends the allowed hosts typed, split and without repeats", async () => {
    setSecret.mockImplementation(async (_scope, input) => ok(input.environment!));
    open();
    type(screen.getByLabelText("Name"), "STRIPE_KEY");
    type(valueField("production"), "sk_live_51Hx");
    type(screen.getByLabelText("Allowed hosts"), "api.stripe.com, *.stripe.com api.stripe.com");
    await submit();
    expect(setSecret.mock.calls[0]![1]).toMatchObject({ allowedHosts: ["api.stripe.com", "*.stripe.com"] });
  });

  it("refuses a URL as an allowed host and a control character in the description", async () => {
    open();
    type(screen.getByLabelText("Name"), "STRIPE_KEY");
    type(valueField("production"), "sk_live_51Hx");
    type(screen.getByLabelText("Allowed hosts"), "https://api.stripe.com/v1");
    type(screen.getByLabelText("Description"), "key \u001b]52;c;eA==\u0007");
    await submit();
    expect(setSecret).not.toHaveBeenCalled();
    expect(screen.getByText("Give api.stripe.com without the scheme.")).toBeTruthy();
    expect(screen.getByText("Line breaks, tabs and control characters are not allowed.")).toBeTruthy();
  });
});
