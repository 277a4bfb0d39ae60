import { act, fireEvent, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({ commands: { testRequest: vi.fn() } }));

import { commands } from "../../bindings";
import type { Secret } from "../../lib/types";
import { secretWith } from "../../test/secrets";
import { renderInSession } from "../../test/session";
import { TestDialog, toRequest, type TestForm } from "./TestDialog";

const testRequest = vi.mocked(commands.testRequest);

const secret: Secret = secretWith("STRIPE_KEY", { staging: null, production: 2 });

const form = (patch: Partial<TestForm>): TestForm => ({
  environment: "production",
  method: "POST",
  url: " https://api.example.com/x ",
  placement: "header",
  field: "Authorization",
  template: "Bearer {{ secrets.STRIPE_KEY }}",
  body: "",
  ...patch,
});

beforeEach(() => testRequest.mockReset());

describe("toRequest", () => {
  it("places only a reference, never a value, where the form says", () => {
    expect(toRequest(form({}), "STRIPE_KEY")).toMatchObject({
      url: "https://api.example.com/x",
      headers: ["Authorization: Bearer {{ secrets.STRIPE_KEY }}"],
      body: null,
    });
    expect(toRequest(form({ placement: "query", field: "key" }), "STRIPE_KEY").query).toEqual([
      "key={{ secrets.STRIPE_KEY }}",
    ]);
    expect(toRequest(form({ placement: "basic", field: "bot" }), "STRIPE_KEY").basic).toBe("bot:{{ secrets.STRIPE_KEY }}");
    expect(toRequest(form({ placement: "hmac", field: "X-Sig", body: "{}" }), "STRIPE_KEY")).toMatchObject({
      hmacHeader: "X-Sig",
      hmacKey: "{{ secrets.STRIPE_KEY }}",
      body: "{}",
    });
  });
});

describe("Test dialog", () => {
  it("sends from an environment that has a value and shows the masked answer", async () => {
    testRequest.mockResolvedValue({
      status: "ok",
      data: { status: 401, reason: "Unauthorized", headers: [{ name: "content-type", value: "text/plain" }], body: "bad key ********", truncated: false },
    });
    renderInSession(<TestDialog secret={secret} onClose={() => undefined} />);
    expect((screen.getByLabelText("Environment") as HTMLSelectElement).value).toBe("production");
    fireEvent.change(screen.getByLabelText("URL"), { target: { value: "https://api.example.com/v1/me" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send test request" }));
    });
    expect(testRequest).toHaveBeenCalledWith(
      { workspace: "default", project: "default" },
      expect.objectContaining({
        environment: "production",
        method: "GET",
        url: "https://api.example.com/v1/me",
        headers: ["Authorization: Bearer {{ secrets.STRIPE_KEY }}"],
      }),
    );
    expect(screen.getByLabelText("Response body").textContent).toContain("bad key ********");
    expect(screen.getByText("401")).toBeTruthy();
  });

  it("refuses a URL without a host and a header that lost its reference", async () => {
    renderInSession(<TestDialog secret={secret} onClose={() => undefined} />);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send test request" }));
    });
    expect(screen.getByText(/http:\/\/ or https:\/\/ URL/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText("URL"), { target: { value: "https://h/" } });
    fireEvent.change(screen.getByLabelText("Header value"), { target: { value: "Bearer sk_live_typed" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send test request" }));
    });
    expect(testRequest).not.toHaveBeenCalled();
    expect(screen.getByText(/must contain \{\{ secrets.STRIPE_KEY \}\}/)).toBeTruthy();
  });
});
